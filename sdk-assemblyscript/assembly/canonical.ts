// Canonical-ABI lifting and lowering for weir:filter@1.0.0, with UTF-16 strings.
//
// Lowering an AssemblyScript string costs nothing: its UTF-16 code units already sit in
// linear memory, so the host gets the string's own pointer and `length`. Lifting copies
// what the host wrote (into memory it took from `cabi_realloc`) into a managed object
// and frees the raw block.

/** Where imports that return more than one core value write their results. Sized for
 *  the largest: `result<incoming-response, string>` (24 bytes). */
export const RET: usize = memory.data(32, 8);

/** The canonical ABI's allocator: the host calls it to place strings and lists it
 *  returns. Blocks come from the runtime's raw heap (not the GC) and are freed by
 *  the lifting helpers below once copied. Empty blocks are never allocated: they get
 *  the non-null, never-freed address `align`. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  if (newSize == 0) {
    if (oldPtr != 0 && oldSize != 0) heap.free(oldPtr);
    return align;
  }
  if (oldPtr == 0 || oldSize == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}

function release(ptr: usize, bytes: usize): void {
  if (bytes != 0) heap.free(ptr);
}

/** Lifts the string at (`ptr`, `units` UTF-16 code units) and frees its block. */
export function liftString(ptr: usize, units: usize): string {
  const s = String.UTF16.decodeUnsafe(ptr, units << 1);
  release(ptr, units << 1);
  return s;
}

/** Lifts the `string` (pointer, length) stored at `at`. */
export function liftStringAt(at: usize): string {
  return liftString(load<u32>(at), load<u32>(at, 4));
}

/** Lifts an `option<string>` stored at `at` (tag byte, string at offset 4). */
export function liftOptionStringAt(at: usize): string | null {
  if (load<u8>(at) == 0) return null;
  return liftStringAt(at + 4);
}

/** Lifts the `list<u8>` (pointer, length) stored at `at`. */
export function liftBytesAt(at: usize): Uint8Array {
  const ptr = load<u32>(at);
  const len = load<u32>(at, 4);
  const bytes = new Uint8Array(len);
  memory.copy(bytes.dataStart, ptr, len);
  release(ptr, len);
  return bytes;
}

/** Lifts a `list<string>` stored at `at`. */
export function liftStringsAt(at: usize): string[] {
  const ptr = load<u32>(at);
  const len = load<u32>(at, 4);
  const out = new Array<string>(len);
  for (let i: u32 = 0; i < len; i++) out[i] = liftStringAt(ptr + i * 8);
  release(ptr, len * 8);
  return out;
}

/** Lifts a `list<header>` (tuples of two strings) stored at `at`. */
export function liftHeadersAt(at: usize): Header[] {
  const ptr = load<u32>(at);
  const len = load<u32>(at, 4);
  const out = new Array<Header>(len);
  for (let i: u32 = 0; i < len; i++) {
    const entry = ptr + i * 16;
    const name = liftStringAt(entry);
    out[i] = new Header(name, liftStringAt(entry + 8));
  }
  release(ptr, len * 16);
  return out;
}

/** Lifts a `result<_, string>`: null when it is ok, else the error. */
export function liftUnitResultAt(at: usize): string | null {
  if (load<u8>(at) == 0) return null;
  return liftStringAt(at + 4);
}

/** A header: a name and its value. */
export class Header {
  constructor(public name: string, public value: string) {}
}

/** The pointer the host reads a string from. */
// @ts-ignore: decorator
@inline export function strPtr(s: string): i32 {
  return changetype<usize>(s) as i32;
}

/** A string's length in UTF-16 code units, as the host reads it. */
// @ts-ignore: decorator
@inline export function strLen(s: string): i32 {
  return s.length;
}

/** Lowers `headers` to a `list<header>` in a fresh block, which `keep` holds until the
 *  host has read it. Returns the block's address. */
export function lowerHeaders(headers: Header[], keep: ArrayBuffer[]): usize {
  const block = new ArrayBuffer(headers.length * 16);
  keep.push(block);
  const base = changetype<usize>(block);
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    const entry = base + i * 16;
    store<u32>(entry, changetype<usize>(h.name));
    store<u32>(entry, h.name.length, 4);
    store<u32>(entry, changetype<usize>(h.value), 8);
    store<u32>(entry, h.value.length, 12);
  }
  return base;
}
