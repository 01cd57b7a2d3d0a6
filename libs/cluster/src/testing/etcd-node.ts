/**
 * A bare cluster node in its own process, for tests that `kill -9` a node: joins the cluster at
 * argv[2] (endpoint) with prefix argv[3] and node id argv[4], and prints `ready` once joined.
 * Item types starting with `svc.` are singletons.
 */
import { EtcdCoordinator } from '../etcd-coordinator';

const [endpoint, prefix, nodeId] = process.argv.slice(2);
const c = new EtcdCoordinator({ endpoints: [endpoint!], prefix, node: { nodeId: nodeId!, isSingleton: (t) => t.startsWith('svc.') } });
await c.start();
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
