/**
 * Dynamic tensor memory (TensorRT's name): every intermediate tensor of an engine lives in one arena
 * at an offset chosen from its lifetime, so tensors that are never alive at the same time share
 * bytes. Offsets come from the greedy-by-size algorithm (Pisarchyk & Lee, "Efficient Memory
 * Management for Deep Neural Net Inference", 2020): place the largest tensors first, each at the
 * lowest offset that does not overlap a placed tensor whose lifetime overlaps its own.
 *
 * Aliases express views and in-place reuse: a tensor declared `aliasOf` another lives inside it at
 * `aliasOffset`; the group's lifetime is the union of its members' and its size covers them all.
 */

export interface PlanItem {
  id: string;
  /** Bytes. */
  size: number;
  /** First step (layer index) that writes it. */
  start: number;
  /** Last step that reads it (inclusive). */
  end: number;
  /** Live inside another item (a view, an in-place output, a slice of a concat). */
  aliasOf?: string;
  /** Byte offset inside the aliased item. */
  aliasOffset?: number;
}

export interface MemoryPlan {
  /** id -> byte offset in its arena buffer. */
  offsets: Map<string, number>;
  /** id -> which arena buffer holds it (all 0 unless the plan was given a buffer size limit). */
  buffers: Map<string, number>;
  /** Each arena buffer's size in bytes (one entry unless the arena exceeds the limit). */
  bufferBytes: number[];
  /** Arena size in bytes (the peak of simultaneously live activations, after alignment). */
  arenaBytes: number;
  /** Sum of all non-alias tensor sizes: what one buffer per tensor would cost. */
  naiveBytes: number;
}

function alignUp(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

interface Interval { id: string; size: number; start: number; end: number }

/**
 * The placed lifetimes, for "which placed tensors are alive at some step of [start, end]": all
 * intervals sorted by start once, a max-tree over their ends (only placed ones count). A query
 * costs O((answers + 1) log n), so planning a long chain is O(n log n), not O(n^2).
 */
class PlacedIntervals {
  private readonly byStart: Interval[];
  private readonly slot = new Map<Interval, number>();
  private readonly size: number;
  private readonly maxEnd: Float64Array;

  constructor(all: Interval[]) {
    this.byStart = all.slice().sort((a, b) => a.start - b.start);
    this.byStart.forEach((it, k) => this.slot.set(it, k));
    let size = 1;
    while (size < this.byStart.length) size *= 2;
    this.size = size;
    this.maxEnd = new Float64Array(2 * size).fill(-Infinity);
  }

  place(it: Interval): void {
    let k = this.slot.get(it)! + this.size;
    this.maxEnd[k] = it.end;
    for (k >>= 1; k >= 1; k >>= 1) this.maxEnd[k] = Math.max(this.maxEnd[2 * k], this.maxEnd[2 * k + 1]);
  }

  /** Placed intervals with start <= end and end >= start. */
  overlapping(start: number, end: number): Interval[] {
    // intervals starting after `end` cannot overlap: only the first `limit` slots are candidates
    let lo = 0, hi = this.byStart.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.byStart[mid].start <= end) lo = mid + 1;
      else hi = mid;
    }
    const limit = lo;
    const out: Interval[] = [];
    const stack: [number, number, number][] = [[1, 0, this.size]];
    while (stack.length) {
      const [k, from, to] = stack.pop()!;
      if (from >= limit || this.maxEnd[k] < start) continue;
      if (to - from === 1) { out.push(this.byStart[from]); continue; }
      const mid = (from + to) >> 1;
      stack.push([2 * k + 1, mid, to], [2 * k, from, mid]);
    }
    return out;
  }
}

/**
 * @param maxBufferBytes the most bytes one arena buffer may have: the arena then spans several
 *   buffers, each tensor (with its aliases) inside one; a group larger than that throws.
 */
export function planMemory(items: readonly PlanItem[], alignment = 256, maxBufferBytes = Infinity): MemoryPlan {
  const byId = new Map(items.map((i) => [i.id, i]));
  // Resolve alias chains to a root and an offset within it.
  const rootOf = (it: PlanItem): { root: PlanItem; off: number } => {
    let off = 0;
    let cur = it;
    const seen = new Set<string>();
    while (cur.aliasOf !== undefined) {
      if (seen.has(cur.id)) throw new Error(`alias cycle through '${cur.id}'`);
      seen.add(cur.id);
      off += cur.aliasOffset ?? 0;
      const next = byId.get(cur.aliasOf);
      if (!next) throw new Error(`'${cur.id}' aliases unknown tensor '${cur.aliasOf}'`);
      cur = next;
    }
    return { root: cur, off };
  };
  type Group = Interval;
  const groups = new Map<string, Group>();
  const placement = new Map<string, { root: string; off: number }>();
  let naive = 0;
  for (const it of items) {
    if (it.aliasOf === undefined) naive += it.size;
    const { root, off } = rootOf(it);
    placement.set(it.id, { root: root.id, off });
    let g = groups.get(root.id);
    if (!g) groups.set(root.id, (g = { id: root.id, size: root.size, start: root.start, end: root.end }));
    g.size = Math.max(g.size, off + it.size);
    g.start = Math.min(g.start, it.start);
    g.end = Math.max(g.end, it.end);
  }
  const order = [...groups.values()].sort((a, b) => b.size - a.size || a.start - b.start || (a.id < b.id ? -1 : 1));
  const placed = new PlacedIntervals([...groups.values()]);
  const groupOffset = new Map<string, number>();
  const groupBuffer = new Map<string, number>();
  const ends: number[] = [0];
  for (const g of order) {
    if (g.size > maxBufferBytes) throw new Error(`tensor '${g.id}' (${g.size} bytes) is larger than one buffer may be (${maxBufferBytes} bytes)`);
    const overlapping = placed.overlapping(g.start, g.end);
    // the first buffer with room: in each, the lowest offset clear of the tensors alive meanwhile
    for (let b = 0; ; b++) {
      const busy = overlapping.filter((p) => groupBuffer.get(p.id) === b)
        .map((p) => [groupOffset.get(p.id)!, groupOffset.get(p.id)! + p.size] as const)
        .sort((x, y) => x[0] - y[0]);
      let offset = 0;
      for (const [lo, hi] of busy) {
        if (offset + g.size <= lo) break;
        offset = Math.max(offset, alignUp(hi, alignment));
      }
      if (offset + g.size > maxBufferBytes) continue;
      placed.place(g);
      groupOffset.set(g.id, offset);
      groupBuffer.set(g.id, b);
      ends[b] = Math.max(ends[b] ?? 0, offset + g.size);
      break;
    }
  }
  const offsets = new Map<string, number>(), buffers = new Map<string, number>();
  for (const [id, p] of placement) {
    offsets.set(id, groupOffset.get(p.root)! + p.off);
    buffers.set(id, groupBuffer.get(p.root)!);
  }
  const bufferBytes = ends.map((e) => Math.max(alignment, alignUp(e, alignment)));
  return { offsets, buffers, bufferBytes, arenaBytes: bufferBytes.length === 1 ? alignUp(ends[0], alignment) : bufferBytes.reduce((x, y) => x + y, 0), naiveBytes: naive };
}

/** Check a plan: no two simultaneously live tensors of different groups overlap. Throws if so. */
export function checkPlan(items: readonly PlanItem[], plan: MemoryPlan): void {
  const root = (it: PlanItem): string => {
    let cur = it;
    while (cur.aliasOf !== undefined) cur = items.find((x) => x.id === cur.aliasOf)!;
    return cur.id;
  };
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (root(a) === root(b)) continue;
      if (a.start > b.end || b.start > a.end) continue;
      if ((plan.buffers?.get(a.id) ?? 0) !== (plan.buffers?.get(b.id) ?? 0)) continue;
      const ao = plan.offsets.get(a.id)!, bo = plan.offsets.get(b.id)!;
      if (ao < bo + b.size && bo < ao + a.size) throw new Error(`'${a.id}' and '${b.id}' are live together and overlap`);
    }
  }
}
