import { GraphError } from '../errors';
import { Attr, Graph, Node } from './graph';
import { Tensor } from './tensor';

/**
 * Typed, defaulted access to a node's attributes. Each getter takes the ONNX default; when an
 * attribute is required (no default) and missing, it throws a GraphError naming the node.
 */
export class Attrs {
  constructor(private readonly node: Node) {}

  has(name: string): boolean {
    return this.node.attrs.has(name);
  }

  private get(name: string, types: string[]): Attr | undefined {
    const a = this.node.attrs.get(name);
    if (a && !types.includes(a.type)) {
      throw new GraphError(`attribute '${name}' must be of type ${types.join(' or ')}, got ${a.type}`, this.node);
    }
    return a;
  }

  private missing(name: string): never {
    throw new GraphError(`required attribute '${name}' is missing`, this.node);
  }

  int(name: string, dflt?: number): number {
    const a = this.get(name, ['int']);
    if (a) return a.value as number;
    return dflt ?? this.missing(name);
  }

  float(name: string, dflt?: number): number {
    const a = this.get(name, ['float', 'int']);
    if (a) return a.value as number;
    return dflt ?? this.missing(name);
  }

  string(name: string, dflt?: string): string {
    const a = this.get(name, ['string']);
    if (a) return a.value as string;
    return dflt ?? this.missing(name);
  }

  ints(name: string, dflt?: number[]): number[] {
    const a = this.get(name, ['ints']);
    if (a) return (a.value as number[]).slice();
    return dflt?.slice() ?? this.missing(name);
  }

  floats(name: string, dflt?: number[]): number[] {
    const a = this.get(name, ['floats', 'ints']);
    if (a) return (a.value as number[]).slice();
    return dflt?.slice() ?? this.missing(name);
  }

  strings(name: string, dflt?: string[]): string[] {
    const a = this.get(name, ['strings']);
    if (a) return (a.value as string[]).slice();
    return dflt?.slice() ?? this.missing(name);
  }

  tensor(name: string): Tensor | undefined {
    return this.get(name, ['tensor'])?.value as Tensor | undefined;
  }

  tensors(name: string): Tensor[] | undefined {
    return this.get(name, ['tensors'])?.value as Tensor[] | undefined;
  }

  graph(name: string): Graph | undefined {
    return this.get(name, ['graph'])?.value as Graph | undefined;
  }

  /** An int attribute that may be absent (no ONNX default). */
  optInt(name: string): number | undefined {
    return this.get(name, ['int'])?.value as number | undefined;
  }

  optInts(name: string): number[] | undefined {
    return (this.get(name, ['ints'])?.value as number[] | undefined)?.slice();
  }

  optFloat(name: string): number | undefined {
    return this.get(name, ['float'])?.value as number | undefined;
  }
}

