// What the tests of machines and their hub share: waiting for a state the systems reach on
// their own, and for the hub to hold every change a machine committed.
import type { TestServer } from './system.js';

/** Waits for a condition the system reaches on its own (a connection, a sync), checking every 20 ms. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The machine has committed what it was given, and the hub has acknowledged all of it. */
export async function synced(machine: TestServer, hub: TestServer): Promise<void> {
  await machine.system.settle();
  const id = (await machine.request('GET', '/v1/machine')).body.id;
  await until('the hub to hold every change of the machine', async () => {
    const head = (await machine.request('GET', '/v1/machine')).body.sync.head;
    const m = (await hub.request('GET', `/v1/machines/${id}`)).body.machine;
    return m && m.sync.acked === head;
  });
}
