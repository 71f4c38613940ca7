/**
 * Sub-tensor views for the builder: concat elimination and Split as views. A tensor can live at a
 * byte offset inside another tensor of the arena, so
 *  - the producers of a Concat's inputs write straight into their slice of the concatenated
 *    tensor (no copy kernel), and
 *  - the outputs of a Split (including the one horizontal fusion adds) are slices of its input.
 * A slice is contiguous only when every axis before the concat/split axis has size 1 (NCHW with
 * N = 1 along channels); other cases keep the copy kernel. Vulkan binds a storage buffer at an
 * offset that is a multiple of minStorageBufferOffsetAlignment, so a slice whose byte offset is not
 * also keeps the copy (no kernel takes an element offset). Both fallbacks are logged.
 *
 * A Concat whose first input is the last slice of a wider tensor (horizontal fusion puts the
 * sibling that feeds a Concat last, see rules/horizontal.ts) extends that tensor: the concatenated
 * tensor starts where the slice starts, so the wide layer writes the slice in place and the other
 * inputs of the Concat follow it. The owner's memory-plan item grows to cover the extension.
 */
import { Node } from '../../ir/graph';
import type { PlanItem } from '../memory-plan';
import { TensorDesc } from '../../kernel/contract';
import { gpuTypeBytes } from '../../kernel/storage';

/** The part of a planned tensor this module reads and writes. */
interface Slot { name: string; kind: string; gpu: string; bytes: number; offset: number; buffer?: number }

export class SubViews {
  /** child tensor -> its parent and byte offset inside it */
  private readonly parent = new Map<string, { of: string; offset: number }>();
  eliminated = 0;

  constructor(private readonly alignment: number, private readonly rootOf: (name: string) => string, private readonly log: (line: string) => void) {}

  /**
   * Try to make `node` (Concat or Split) a set of views. `tensors` holds what earlier layers
   * produced; `ensure` creates the node's output tensors. Returns true when no kernel is needed.
   */
  claim(node: Node, inputs: readonly (TensorDesc | undefined)[], outputs: readonly TensorDesc[], tensors: Map<string, Slot>, ensure: (name: string, gpu: 'f32' | 'f16') => void): boolean {
    if (node.domain || (node.opType !== 'Concat' && node.opType !== 'Split')) return false;
    const why = (m: string) => { this.log(`views: ${node.name || node.outputs[0]} (${node.opType}) keeps its copy: ${m}`); return false; };
    const whole = node.opType === 'Concat' ? outputs[0] : inputs[0];
    const parts = node.opType === 'Concat' ? inputs : outputs;
    if (!whole || parts.some((p) => !p)) return false;
    // Slices share one storage type: the one their producers wrote (Concat) or the source has
    // (Split); f32, or f16 in FP16 engines. Integer tensors keep the copy.
    const sources = node.opType === 'Concat' ? node.inputs : [node.inputs[0]];
    const kinds = new Set(sources.map((i) => tensors.get(this.rootOf(i))?.gpu));
    const storage = kinds.size === 1 ? [...kinds][0] : undefined;
    if (storage !== 'f32' && storage !== 'f16') return why('its inputs are not float tensors of one storage type');
    const elemBytes = gpuTypeBytes(storage);
    const rank = whole.dims.length;
    let axis = (node.attrs.get('axis')?.value as number | undefined) ?? (node.opType === 'Split' ? 0 : NaN);
    if (Number.isNaN(axis)) return false;
    if (axis < 0) axis += rank;
    if (whole.dims.slice(0, axis).some((d) => d !== 1)) return why('the slices are strided (an axis before the concat axis is not 1)');
    const offsets: number[] = [];
    let off = 0;
    for (const p of parts) {
      offsets.push(off);
      off += p!.dims.reduce((a, b) => a * b, 1) * elemBytes;
    }
    if (offsets.some((o) => o % this.alignment !== 0)) return why(`a slice offset is not a multiple of the device's ${this.alignment}-byte storage buffer alignment`);
    if (node.opType === 'Concat') {
      const roots = node.inputs.map((i) => this.rootOf(i));
      if (new Set(roots).size !== roots.length) return why('an input appears twice');
      const extend = this.extension(roots[0], tensors);
      for (const [k, r] of roots.entries()) {
        const t = tensors.get(r);
        if (!t || t.kind !== 'activation') return why(`'${r}' is not an activation written by a layer`);
        if (this.parent.has(r) && !(k === 0 && extend)) return why(`'${r}' is already a slice of another tensor`);
      }
      ensure(node.outputs[0], storage);
      if (extend) this.parent.set(node.outputs[0], extend);
      roots.forEach((r, k) => { if (!(k === 0 && extend)) this.parent.set(r, { of: node.outputs[0], offset: offsets[k] }); });
    } else {
      const r = this.rootOf(node.inputs[0]);
      const t = tensors.get(r);
      if (!t || (t.kind !== 'activation' && t.kind !== 'input')) return why(`'${r}' is not an activation`);
      if (node.outputs.some((o) => !o || tensors.has(o))) return false;
      node.outputs.forEach((o, k) => { ensure(o, storage); this.parent.set(o, { of: r, offset: offsets[k] }); });
    }
    this.eliminated++;
    return true;
  }

  /**
   * Where a Concat may start inside the tensor its first input is a slice of: at that slice, when
   * it is the owner's last slice (nothing of the owner lies after it) and the owner is a root.
   */
  private extension(first: string, tensors: Map<string, Slot>): { of: string; offset: number } | undefined {
    const p = this.parent.get(first);
    if (!p || this.parent.has(p.of)) return undefined;
    const owner = tensors.get(p.of), slice = tensors.get(first);
    if (!owner || !slice || owner.kind !== 'activation') return undefined;
    return p.offset + slice.bytes === owner.bytes ? { of: p.of, offset: p.offset } : undefined;
  }

  /** Makes `child` a slice of `of` at byte `offset` (a piece of a big tensor, phases/big-tensors.ts). */
  slice(child: string, of: string, offset: number): void {
    if (child === of || this.resolve(of).root === child) throw new Error(`internal: '${child}' cannot be a slice of '${of}'`);
    this.parent.set(child, { of, offset });
  }

  /** Whether some tensor is a slice of `name`. */
  hasSlices(name: string): boolean {
    for (const p of this.parent.values()) if (p.of === name) return true;
    return false;
  }

  isView(name: string): boolean {
    return this.parent.has(name);
  }

  /** The tensor that owns the bytes and the byte offset inside it. */
  resolve(name: string): { root: string; offset: number } {
    let root = name, offset = 0;
    for (let k = 0; this.parent.has(root) && k < 10000; k++) {
      const p = this.parent.get(root)!;
      offset += p.offset;
      root = p.of;
    }
    return { root, offset };
  }

  /**
   * Memory plan items: slices leave the plan and widen their owner's lifetime instead (and its
   * size, where a Concat extends the owner).
   */
  adjustPlan(items: PlanItem[]): PlanItem[] {
    const byId = new Map(items.map((i) => [i.id, i]));
    for (const it of items) {
      if (!this.parent.has(it.id)) continue;
      const { root, offset } = this.resolve(it.id);
      const owner = byId.get(root);
      if (!owner) continue;
      owner.start = Math.min(owner.start, it.start);
      owner.end = Math.max(owner.end, it.end);
      owner.size = Math.max(owner.size, offset + it.size);
    }
    return items.filter((i) => !this.parent.has(i.id));
  }

  /** After the plan: each slice's offset is its owner's plus its own. */
  place(tensors: Map<string, Slot>): void {
    for (const name of this.parent.keys()) {
      const { root, offset } = this.resolve(name);
      const t = tensors.get(name), o = tensors.get(root);
      if (!t || !o) continue;
      t.offset = o.offset + offset;
      if (o.buffer !== undefined) t.buffer = o.buffer;
    }
  }
}
