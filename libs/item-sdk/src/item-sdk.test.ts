import { describe, expect, it } from 'vitest';
import { apiMajor, createTestContext, defineItemType, ITEM_TYPE_API_VERSION, MessageEnvelope, z } from './index';

describe('@hie/item-sdk', () => {
  it('defineItemType stamps the item-type API version and keeps the definition', () => {
    const t = defineItemType({ type: 'acme.echo', version: 1, kind: 'process', description: 'echo', settings: z.object({}), create: () => ({}) });
    expect(t.apiVersion).toBe(ITEM_TYPE_API_VERSION);
    expect(apiMajor(t.apiVersion!)).toBe(1);
    expect(t).toMatchObject({ type: 'acme.echo', kind: 'process' });
  });

  it('createTestContext records what a handler sends and discards', async () => {
    const t = defineItemType({
      type: 'acme.split',
      version: 1,
      kind: 'process',
      description: 'drop empty',
      settings: z.object({}),
      create: (_s, ctx) => ({
        onMessage(e) {
          if (e.text() === '') ctx.discard('empty');
          else ctx.send(e, { to: ['b'] });
        },
      }),
    });
    const { ctx, record } = createTestContext();
    const h = await t.create({}, ctx);
    await h.onMessage!(MessageEnvelope.create({ raw: 'x', source: 't' }), ctx);
    await h.onMessage!(MessageEnvelope.create({ raw: '', source: 't' }), ctx);
    expect(record.sent.map((s) => [s.envelope.text(), s.opts?.to])).toEqual([['x', ['b']]]);
    expect(record.discarded).toEqual(['empty']);
  });
});
