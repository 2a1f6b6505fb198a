/**
 * The C ABI as one compiled module describes it (`rk_abi_describe`), checked against
 * schema.ts when the module loads, and the packing of structs into the bytes that module
 * reads. Both compiled backends go through here: the addon and the wasm module receive the
 * same packed rk_stack_spec, rk_model_spec, rk_optimizer and rk_batch, laid out with the
 * offsets the module itself reports (wasm32 pointers are 4 bytes, x86-64's 8).
 */
import { ENUMS, EXPECTED_LIMITS, STRUCTS, type EnumMember, type EnumName, type FieldName, type StructName } from './schema.js';

interface FieldLayout {
  type: string;
  offset: number;
}

interface StructLayout {
  size: number;
  fields: Map<string, FieldLayout>;
}

/** A value for every field of a struct: numbers, bigints for 64-bit pointers, nested structs as objects. */
export type StructValues<S extends StructName> = { [F in FieldName<S>]: number | StructValues<'rk_stack_spec'> };

/** Thrown when a module's ABI is not the one this TypeScript packs: names what differs. */
export class AbiMismatchError extends Error {
  override name = 'AbiMismatchError';
}

export class Abi {
  /** Each enum's values by TypeScript's member name, resolved once (packing runs per step and per token). */
  private readonly members: Map<string, Map<string, number>>;

  private constructor(
    /** Bytes of a pointer in this module (4 on wasm32, 8 on 64-bit native). */
    readonly pointerSize: number,
    private readonly structs: Map<string, StructLayout>,
    enums: Map<string, Map<string, number>>,
  ) {
    this.members = new Map(
      Object.entries(ENUMS).map(([e, { prefix, names }]) => [e, new Map(names.map((n) => [n, enums.get(e)!.get(prefix + n.toUpperCase())!]))]),
    );
  }

  /**
   * Parse `text` (rk_abi_describe's output) and check it against schema.ts: every struct's
   * fields (names, types, order), every enum TypeScript names, every limit. `what` names
   * the module in errors.
   */
  static fromDescription(text: string, what: string): Abi {
    const structs = new Map<string, StructLayout>();
    const enums = new Map<string, Map<string, number>>();
    const limits = new Map<string, number>();
    const fieldOrder = new Map<string, string[]>();
    for (const line of text.split('\n')) {
      const [kind, name, ...rest] = line.trim().split(/\s+/);
      if (kind === 'struct') {
        const fields = new Map<string, FieldLayout>();
        const order: string[] = [];
        for (const item of rest.slice(1)) {
          const m = /^(\w+):(\w+)@(\d+)$/.exec(item);
          if (!m) throw new AbiMismatchError(`${what}: cannot read field "${item}" of struct ${name} in rk_abi_describe`);
          fields.set(m[1], { type: m[2], offset: Number(m[3]) });
          order.push(`${m[1]}:${m[2]}`);
        }
        structs.set(name, { size: Number(rest[0]), fields });
        fieldOrder.set(name, order);
      } else if (kind === 'enum') {
        enums.set(name, new Map(rest.map((e) => { const [k, v] = e.split('='); return [k, Number(v)]; })));
      } else if (kind === 'limit') {
        limits.set(name, Number(rest[0]));
      }
    }
    const problems: string[] = [];
    for (const [name, fields] of Object.entries(STRUCTS)) {
      const want = fields.map(([f, t]) => `${f}:${t}`).join(' ');
      const got = fieldOrder.get(name)?.join(' ');
      if (got === undefined) problems.push(`struct ${name} is missing`);
      else if (got !== want) problems.push(`struct ${name} has fields [${got}], TypeScript packs [${want}]`);
    }
    for (const [name, { prefix, names }] of Object.entries(ENUMS)) {
      const got = enums.get(name);
      if (!got) {
        problems.push(`enum ${name} is missing`);
        continue;
      }
      const expected = names.map((n) => prefix + n.toUpperCase());
      const extra = [...got.keys()].filter((k) => !expected.includes(k));
      const missing = expected.filter((k) => !got.has(k));
      if (extra.length || missing.length) problems.push(`enum ${name}: ${[...missing.map((k) => `${k} unknown to the module`), ...extra.map((k) => `${k} unknown to TypeScript`)].join(', ')}`);
    }
    for (const [name, value] of Object.entries(EXPECTED_LIMITS)) {
      if (limits.get(name) !== value) problems.push(`limit ${name} is ${limits.get(name) ?? 'missing'}, TypeScript checks ${value}`);
    }
    if (problems.length) throw new AbiMismatchError(`${what} was built for another rnnkit.h: ${problems.join('; ')}`);
    const ptr = structs.get('rk_batch')!;
    const pointerSize = ptr.fields.get('x')!.offset - ptr.fields.get('tokens')!.offset;
    if (pointerSize !== 4 && pointerSize !== 8) throw new AbiMismatchError(`${what}: pointers of ${pointerSize} bytes`);
    return new Abi(pointerSize, structs, enums);
  }

  /** The header's value of TypeScript's enum member `member` (e.g. 'lstm' of rk_cell). */
  value<E extends EnumName>(e: E, member: EnumMember<E>): number {
    return this.members.get(e)!.get(member)!;
  }

  /** The name (TypeScript's spelling) of value `v` of enum `e`, or undefined. */
  nameOf<E extends EnumName>(e: E, v: number): EnumMember<E> | undefined {
    return (ENUMS[e].names as readonly EnumMember<E>[]).find((n) => this.value(e, n) === v);
  }

  sizeOf(s: StructName): number {
    return this.structs.get(s)!.size;
  }

  offsetOf<S extends StructName>(s: S, field: FieldName<S>): number {
    return this.structs.get(s)!.fields.get(field)!.offset;
  }

  /** Write struct `s` with `values` at byte `at` of `view` (every field, in the module's layout). */
  write<S extends StructName>(s: S, values: StructValues<S>, view: DataView, at = 0): void {
    const layout = this.structs.get(s)!;
    for (const [name, { type, offset }] of layout.fields) {
      const v = (values as Record<string, unknown>)[name];
      const p = at + offset;
      switch (type) {
        case 'i32': view.setInt32(p, v as number, true); break;
        case 'u32': view.setUint32(p, v as number, true); break;
        case 'f64': view.setFloat64(p, v as number, true); break;
        case 'ptr':
          if (this.pointerSize === 4) view.setUint32(p, v as number, true);
          else view.setBigUint64(p, BigInt(v as number), true);
          break;
        default: this.write(type as StructName, v as StructValues<StructName>, view, p);
      }
    }
  }

  /** Struct `s` packed into fresh bytes. */
  pack<S extends StructName>(s: S, values: StructValues<S>): Uint8Array {
    const bytes = new Uint8Array(this.sizeOf(s));
    this.write(s, values, new DataView(bytes.buffer));
    return bytes;
  }

  /** The f64 fields of a struct read back (rk_step_result). */
  readF64<S extends StructName>(s: S, view: DataView, at = 0): Record<FieldName<S>, number> {
    const out: Record<string, number> = {};
    for (const [name, { type, offset }] of this.structs.get(s)!.fields) {
      if (type === 'f64') out[name] = view.getFloat64(at + offset, true);
    }
    return out as Record<FieldName<S>, number>;
  }
}
