import { type Command, type CommandResult, ClusterError, type Coordinator, type DesiredState, type NodeStatus } from './coordinator';

/** Single-node coordinator: maps and listener sets in this process. */
export class InProcessCoordinator implements Coordinator {
  private readonly desired = new Map<string, DesiredState>();
  private readonly statuses = new Map<string, NodeStatus>();
  private readonly desiredListeners = new Set<(s: DesiredState) => void>();
  private readonly statusListeners = new Set<(s: NodeStatus) => void>();
  private readonly commandHandlers = new Set<(c: Command) => Promise<CommandResult>>();

  async setDesired(state: DesiredState): Promise<void> {
    const copy = structuredClone(state);
    this.desired.set(state.projectId, copy);
    for (const l of this.desiredListeners) l(structuredClone(copy));
  }

  async getDesired(projectId: string): Promise<DesiredState | undefined> {
    const d = this.desired.get(projectId);
    return d && structuredClone(d);
  }

  async listDesired(): Promise<DesiredState[]> {
    return [...this.desired.values()].map((d) => structuredClone(d));
  }

  watchDesired(listener: (state: DesiredState) => void): () => void {
    this.desiredListeners.add(listener);
    for (const d of this.desired.values()) listener(structuredClone(d));
    return () => this.desiredListeners.delete(listener);
  }

  async reportStatus(status: NodeStatus): Promise<void> {
    this.statuses.set(status.nodeId, status);
    for (const l of this.statusListeners) l(status);
  }

  async listStatus(): Promise<NodeStatus[]> {
    return [...this.statuses.values()];
  }

  watchStatus(listener: (status: NodeStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async sendCommand(command: Command, timeoutMs = 30_000): Promise<CommandResult> {
    const handler = this.commandHandlers.values().next().value;
    if (!handler) throw new ClusterError('cluster.no_node', 'no engine node is connected');
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        handler(command),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new ClusterError('cluster.timeout', `no answer to ${command.kind} within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  onCommand(handler: (command: Command) => Promise<CommandResult>): () => void {
    this.commandHandlers.add(handler);
    return () => this.commandHandlers.delete(handler);
  }

  async close(): Promise<void> {
    this.desiredListeners.clear();
    this.statusListeners.clear();
    this.commandHandlers.clear();
  }
}
