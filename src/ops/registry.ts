import { UnsupportedError } from '../errors';
import { Node } from '../ir/graph';
import { OpDef, OpTraits } from './types';

const NO_TRAITS: OpTraits = Object.freeze({});

/** Lookup table of operator definitions, keyed by domain and op type. */
export class OpRegistry {
  private readonly defs = new Map<string, OpDef>();

  constructor(defs: readonly OpDef[]) {
    for (const d of defs) this.add(d);
  }

  private static key(domain: string | undefined, opType: string): string {
    const dom = !domain || domain === 'ai.onnx' ? '' : domain;
    return `${dom}::${opType}`;
  }

  add(def: OpDef): void {
    const k = OpRegistry.key(def.domain, def.opType);
    if (this.defs.has(k)) throw new Error(`operator ${k} is registered twice`);
    this.defs.set(k, def);
  }

  /** Puts `def` in place of whatever is registered for its domain and op type; returns what it replaced. */
  replace(def: OpDef): OpDef | undefined {
    const k = OpRegistry.key(def.domain, def.opType);
    const old = this.defs.get(k);
    this.defs.set(k, def);
    return old;
  }

  /** Removes the definition of a domain and op type; returns it. */
  remove(domain: string | undefined, opType: string): OpDef | undefined {
    const k = OpRegistry.key(domain, opType);
    const old = this.defs.get(k);
    this.defs.delete(k);
    return old;
  }

  /** A registry with the same definitions, to extend without changing this one (per-build plugins). */
  clone(): OpRegistry {
    const r = new OpRegistry([]);
    for (const [k, d] of this.defs) r.defs.set(k, d);
    return r;
  }

  get(domain: string | undefined, opType: string): OpDef | undefined {
    return this.defs.get(OpRegistry.key(domain, opType));
  }

  /** The definition for a node at the given opset, or an UnsupportedError that says what to do. */
  resolve(node: Node, opset: number): OpDef {
    const def = this.get(node.domain, node.opType);
    if (!def) {
      throw new UnsupportedError(`operator is not implemented by vkrt (opset ${opset}); replace it in the model, or register a plugin for it`, node);
    }
    if (def.sinceVersion !== undefined && opset < def.sinceVersion) {
      throw new UnsupportedError(`opset ${opset} of this operator is older than the oldest vkrt supports (${def.sinceVersion}); re-export the model with a newer opset`, node);
    }
    return def;
  }

  /** The traits of a node's operator (none for an unknown operator). */
  traits(node: Pick<Node, 'domain' | 'opType'>): OpTraits {
    return this.get(node.domain, node.opType)?.traits ?? NO_TRAITS;
  }

  list(): OpDef[] {
    return [...this.defs.values()];
  }
}
