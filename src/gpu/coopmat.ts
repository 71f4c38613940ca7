/**
 * Cooperative-matrix combinations (matrix units, "tensor cores") as a device reports them: the
 * addon passes the driver's VkComponentTypeKHR and VkScopeKHR numbers through, this file names them
 * (`f16`, `subgroup`) and prints them. Which kernels use which combination is the builder's matter.
 */
import type { NativeCoopMatProperty } from '../native';

/** Component types of VkComponentTypeKHR (same numbers as VkComponentTypeNV), `type<n>` for others. */
export type CoopMatComponent =
  | 'f16' | 'f32' | 'f64' | 'i8' | 'i16' | 'i32' | 'i64' | 'u8' | 'u16' | 'u32' | 'u64'
  | 'bf16' | 'i8packed' | 'u8packed' | 'e4m3' | 'e5m2' | `type${number}`;

/** VkScopeKHR (same numbers as VkScopeNV), `scope<n>` for others. */
export type CoopMatScope = 'device' | 'workgroup' | 'subgroup' | 'queueFamily' | `scope${number}`;

/** One supported (M, N, K, A/B/C/result types, scope) combination: Result = A (MxK) x B (KxN) + C (MxN). */
export interface CoopMatProperty {
  extension: 'VK_KHR_cooperative_matrix' | 'VK_NV_cooperative_matrix';
  M: number;
  N: number;
  K: number;
  A: CoopMatComponent;
  B: CoopMatComponent;
  C: CoopMatComponent;
  result: CoopMatComponent;
  /** KHR: the accumulation saturates (integer types); always false from the NV query. */
  saturatingAccumulation: boolean;
  scope: CoopMatScope;
}

// Vulkan registry: VkComponentTypeKHR 0-10; VK_KHR_shader_bfloat16 1000141000; VK_NV_cooperative_vector
// 1000491000-1000491003.
const COMPONENTS: Record<number, CoopMatComponent> = {
  0: 'f16', 1: 'f32', 2: 'f64', 3: 'i8', 4: 'i16', 5: 'i32', 6: 'i64', 7: 'u8', 8: 'u16', 9: 'u32', 10: 'u64',
  1000141000: 'bf16', 1000491000: 'i8packed', 1000491001: 'u8packed', 1000491002: 'e4m3', 1000491003: 'e5m2',
};
const SCOPES: Record<number, CoopMatScope> = { 1: 'device', 2: 'workgroup', 3: 'subgroup', 5: 'queueFamily' };

/** The name of a VkComponentTypeKHR number. */
export function coopMatComponent(n: number): CoopMatComponent {
  return COMPONENTS[n] ?? `type${n}`;
}

/** The name of a VkScopeKHR number. */
export function coopMatScope(n: number): CoopMatScope {
  return SCOPES[n] ?? `scope${n}`;
}

/** Names the numbers of the addon's raw entry. */
export function decodeCoopMatProperty(p: NativeCoopMatProperty): CoopMatProperty {
  return {
    extension: p.extension,
    M: p.M, N: p.N, K: p.K,
    A: coopMatComponent(p.A), B: coopMatComponent(p.B), C: coopMatComponent(p.C), result: coopMatComponent(p.result),
    saturatingAccumulation: !!p.saturatingAccumulation,
    scope: coopMatScope(p.scope),
  };
}

/** One line: `16x16x16 f16 x f16 + f32 -> f32, subgroup (KHR)`. */
export function formatCoopMatProperty(p: CoopMatProperty): string {
  const ext = p.extension === 'VK_KHR_cooperative_matrix' ? 'KHR' : 'NV';
  return `${p.M}x${p.N}x${p.K} ${p.A} x ${p.B} + ${p.C} -> ${p.result}, ${p.scope}${p.saturatingAccumulation ? ', saturating' : ''} (${ext})`;
}
