// One slot per exposed partition. Slot ids and token serials are derived from the partition
// name alone, so they never change across restarts or when partitions come and go (SoftHSM's
// renumbering is what its users complain of most).

import { createHash } from 'node:crypto';

export interface Slot {
  id: number;
  partition: string;
  serial: string;
}

function digest(name: string): Buffer {
  return createHash('sha256').update(`coffer/pkcs11/slot/${name}`).digest();
}

export function slotFor(partition: string): Slot {
  const d = digest(partition);
  // 31 bits, never 0: an opaque CK_SLOT_ID the client passes back unchanged (reference §1).
  const id = (d.readUInt32BE(0) & 0x7fffffff) || 1;
  return { id, partition, serial: d.subarray(4, 12).toString('hex') };
}

export class SlotTable {
  readonly slots: readonly Slot[];
  readonly #byId: Map<number, Slot>;

  constructor(partitions: readonly string[]) {
    this.slots = partitions.map(slotFor);
    this.#byId = new Map(this.slots.map((s) => [s.id, s]));
    if (this.#byId.size !== this.slots.length) throw new RangeError('two partitions map to one slot id');
  }

  get(id: number): Slot | undefined {
    return this.#byId.get(id);
  }
}

/** A space-padded fixed-size text field (`s`, reference §3.5): exactly `size` bytes, no NUL. */
export function padded(text: string, size: number): Uint8Array {
  const out = new Uint8Array(size).fill(0x20);
  const b = Buffer.from(text, 'utf8');
  out.set(b.subarray(0, size));
  return out;
}
