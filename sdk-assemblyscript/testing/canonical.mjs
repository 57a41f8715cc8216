// The host's half of the canonical ABI for weir:filter@1.0.0 with UTF-16 strings, as
// wasmtime does it for the real weir: reading what the guest lowered into its memory,
// and writing what the guest lifts into blocks taken from its `cabi_realloc`.

const utf16 = new TextDecoder("utf-16le", { fatal: true });

/** A fault the component model would trap on: the call fails as in weir. */
export class Trap extends Error {
  constructor(message) {
    super(message);
    this.name = "Trap";
  }
}

export class GuestMemory {
  /** @param {WebAssembly.Instance} instance */
  constructor(instance) {
    this.exports = instance.exports;
  }

  // Taken afresh on every access: a `cabi_realloc` may grow the memory, which detaches
  // the buffer a view was made on.
  get view() {
    return new DataView(this.exports.memory.buffer);
  }

  #check(ptr, bytes, align, what) {
    if (ptr % align !== 0) throw new Trap(`${what} at ${ptr} is not aligned to ${align}`);
    if (ptr + bytes > this.exports.memory.buffer.byteLength) {
      throw new Trap(`${what} at ${ptr} (${bytes} bytes) lies outside the guest's memory`);
    }
  }

  u8(at) { return this.view.getUint8(at); }
  u16(at) { return this.view.getUint16(at, true); }
  u32(at) { return this.view.getUint32(at, true); }

  setU8(at, value) { this.view.setUint8(at, value); }
  setU16(at, value) { this.view.setUint16(at, value, true); }
  setU32(at, value) { this.view.setUint32(at, value >>> 0, true); }
  setI32(at, value) { this.view.setInt32(at, value, true); }
  setI64(at, value) { this.view.setBigInt64(at, BigInt.asIntN(64, value), true); }

  /** The string of `units` UTF-16 code units at `ptr`. Unpaired surrogates trap, as
   *  they do when wasmtime transcodes a guest string. */
  string(ptr, units) {
    this.#check(ptr, units * 2, 2, "a string");
    try {
      return utf16.decode(new Uint8Array(this.exports.memory.buffer, ptr, units * 2));
    } catch {
      throw new Trap(`the string at ${ptr} is not valid UTF-16`);
    }
  }

  /** A copy of the `len` bytes at `ptr` (a `list<u8>`). */
  bytes(ptr, len) {
    this.#check(ptr, len, 1, "a list<u8>");
    return new Uint8Array(this.exports.memory.buffer, ptr, len).slice();
  }

  /** A `list<header>`: `len` entries of two (pointer, length) strings. */
  headers(ptr, len) {
    this.#check(ptr, len * 16, 4, "a list<header>");
    const out = [];
    for (let i = 0; i < len; i++) {
      const entry = ptr + i * 16;
      out.push([this.string(this.u32(entry), this.u32(entry + 4)), this.string(this.u32(entry + 8), this.u32(entry + 12))]);
    }
    return out;
  }

  /** A block of `size` bytes from the guest's allocator. */
  alloc(align, size) {
    const ptr = this.exports.cabi_realloc(0, 0, align, size) >>> 0;
    this.#check(ptr, size, align, "the block cabi_realloc returned");
    return ptr;
  }

  /** Copies `s` as UTF-16 into a fresh block; returns its pointer (its length in
   *  code units is `s.length`). */
  lowerString(s) {
    const ptr = this.alloc(2, s.length * 2);
    const units = new Uint16Array(s.length);
    for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i);
    new Uint8Array(this.exports.memory.buffer, ptr, s.length * 2).set(new Uint8Array(units.buffer));
    return ptr;
  }

  /** Writes `s` into a fresh block and its (pointer, length) at `at`. */
  writeString(at, s) {
    const ptr = this.lowerString(s);
    this.setU32(at, ptr);
    this.setU32(at + 4, s.length);
  }

  /** Writes a `list<u8>`. */
  writeBytes(at, bytes) {
    const ptr = this.alloc(1, bytes.length);
    new Uint8Array(this.exports.memory.buffer, ptr, bytes.length).set(bytes);
    this.setU32(at, ptr);
    this.setU32(at + 4, bytes.length);
  }

  /** Writes a `list<string>`. */
  writeStrings(at, strings) {
    const block = this.alloc(4, strings.length * 8);
    strings.forEach((s, i) => this.writeString(block + i * 8, s));
    this.setU32(at, block);
    this.setU32(at + 4, strings.length);
  }

  /** Writes a `list<header>`. */
  writeHeaders(at, headers) {
    const block = this.alloc(4, headers.length * 16);
    headers.forEach(([name, value], i) => {
      this.writeString(block + i * 16, name);
      this.writeString(block + i * 16 + 8, value);
    });
    this.setU32(at, block);
    this.setU32(at + 4, headers.length);
  }

  /** Writes an `option<string>`: a tag byte, the string at offset 4. */
  writeOptionString(at, s) {
    this.setU8(at, s === null ? 0 : 1);
    if (s !== null) this.writeString(at + 4, s);
  }

  /** Writes a `result<_, string>`: null is ok, a string the error. */
  writeUnitResult(at, error) {
    this.setU8(at, error === null ? 0 : 1);
    if (error !== null) this.writeString(at + 4, error);
  }
}
