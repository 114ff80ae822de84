/**
 * The byte sink of the encoder: protobuf's wire format written without an object
 * per piece. Small bytes (tags, scalars, strings) are written into 64 KiB blocks,
 * large payloads (weights) kept by reference, and a length prefix, unknown until
 * its message is written, is a number in a list until {@link ChunkWriter.finish}
 * writes it. A model of a million layers is a few hundred chunks, not millions.
 *
 * @packageDocumentation
 */
import type { EncodedChunks } from "./encode-model.js";
import { varintLength, writeVarint } from "./varint.js";

/**
 * Byte arrays shorter than this are copied into the writer's blocks; longer ones
 * (weight payloads) are kept by reference. Copying a few KB costs less than the
 * object and the write call a separate chunk would.
 */
const COPY_BELOW = 4096;
/** Size of the blocks small pieces are gathered in: one write call each when written to a file. */
const BLOCK_BYTES = 1 << 16;
/** In {@link ChunkWriter}'s list of runs: the next referenced payload. */
const PAYLOAD_RUN = -1;
/** Strings up to this many UTF-16 units take at most 127 bytes in UTF-8: a one-byte length. */
const SHORT_STRING = 42;

const utf8 = new TextEncoder();

/**
 * Writes protobuf's wire format in order into blocks and referenced payloads (see
 * the module's description); {@link ChunkWriter.finish} gives the chunks.
 *
 * @internal
 */
export class ChunkWriter {
  /** Small bytes in the order written: full blocks, then `block` up to `blockEnd`. */
  private readonly blocks: Uint8Array[] = [];
  private block = new Uint8Array(BLOCK_BYTES);
  private view = new DataView(this.block.buffer);
  private blockEnd = 0;
  /**
   * How the small bytes, payloads and length prefixes interleave: a run >= 0 is that
   * many small bytes, {@link PAYLOAD_RUN} the next payload, and a run <= -2 the
   * length prefix -(run + 2) (-2 while its message is being written).
   */
  private runs = new Float64Array(1024);
  private runCount = 0;
  /** Small bytes written since the last run was recorded. */
  private pending = 0;
  private readonly payloads: Uint8Array[] = [];
  private length = 0;

  /** Bytes written so far, length prefixes of finished messages included. */
  get position(): number {
    return this.length;
  }

  /** Appends bytes as they are: copied when short, else by reference (so they must not change before they are written out). */
  raw(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (bytes.length < COPY_BELOW) {
      this.copy(bytes);
      return;
    }
    this.endRun();
    this.pushRun(PAYLOAD_RUN);
    this.payloads.push(bytes);
    this.length += bytes.length;
  }

  /** A varint of a non-negative integer up to 2^53. */
  varint(value: number): void {
    this.reserve(10);
    const start = this.blockEnd;
    this.blockEnd = writeVarint(this.block, start, value);
    this.advance(this.blockEnd - start);
  }

  /** A varint of a 64-bit value, given as its unsigned two's complement. */
  varint64(value: bigint): void {
    if (value <= 0x1fffffffffffffn) {
      this.varint(Number(value));
      return;
    }
    this.reserve(10);
    const start = this.blockEnd;
    let v = value;
    while (v >= 0x80n) {
      this.block[this.blockEnd++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.block[this.blockEnd++] = Number(v);
    this.advance(this.blockEnd - start);
  }

  /** A field's tag. */
  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Four bytes, little-endian: a float32 (`float` true) or a 32-bit integer. */
  fixed32(value: number, float: boolean): void {
    this.reserve(4);
    if (float) this.view.setFloat32(this.blockEnd, value, true);
    else this.view.setUint32(this.blockEnd, value >>> 0, true);
    this.blockEnd += 4;
    this.advance(4);
  }

  /** Eight bytes, little-endian: a float64, or a 64-bit integer as its unsigned two's complement. */
  fixed64(value: number | bigint): void {
    this.reserve(8);
    if (typeof value === "number") this.view.setFloat64(this.blockEnd, value, true);
    else this.view.setBigUint64(this.blockEnd, value, true);
    this.blockEnd += 8;
    this.advance(8);
  }

  /** A length-delimited byte string. */
  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.raw(value);
  }

  /** A length-delimited UTF-8 string (a lone surrogate becomes U+FFFD, as TextEncoder writes it). */
  string(value: string): void {
    if (value.length <= SHORT_STRING) {
      // At most 127 bytes: one byte of length, filled in once the string is written.
      // ASCII is copied unit by unit (names are); the rest goes to TextEncoder.
      this.reserve(1 + 3 * value.length);
      const lengthAt = this.blockEnd;
      let at = lengthAt + 1;
      let i = 0;
      for (; i < value.length; i++) {
        const unit = value.charCodeAt(i);
        if (unit >= 0x80) break;
        this.block[at++] = unit;
      }
      if (i < value.length) at += utf8.encodeInto(value.slice(i), this.block.subarray(at)).written;
      this.block[lengthAt] = at - lengthAt - 1;
      this.blockEnd = at;
      this.advance(at - lengthAt);
      return;
    }
    const bytes = utf8ByteLength(value);
    this.varint(bytes);
    if (bytes > BLOCK_BYTES / 2) {
      this.raw(utf8.encode(value));
      return;
    }
    this.reserve(bytes);
    utf8.encodeInto(value, this.block.subarray(this.blockEnd, this.blockEnd + bytes));
    this.blockEnd += bytes;
    this.advance(bytes);
  }

  /** Marks a point to come back to: the length prefix of what follows is written there. */
  fork(): number {
    this.endRun();
    this.pushRun(-2);
    return this.runCount - 1;
  }

  /** Sets the prefix marked by `fork` to the length of everything written since. */
  join(index: number, startLength: number): void {
    const length = this.length - startLength;
    this.runs[index] = -(length + 2);
    this.length += varintLength(length);
  }

  /** The chunks: blocks of small bytes and prefixes, and the payloads between them. */
  finish(): EncodedChunks {
    this.endRun();
    const sources = [...this.blocks, this.block.subarray(0, this.blockEnd)];
    let source = 0;
    let from = 0;
    const chunks: Uint8Array[] = [];
    let out = new Uint8Array(BLOCK_BYTES);
    let end = 0;
    const flush = (): void => {
      if (end === 0) return;
      chunks.push(out.subarray(0, end));
      out = new Uint8Array(BLOCK_BYTES);
      end = 0;
    };
    let payload = 0;
    for (let r = 0; r < this.runCount; r++) {
      const run = this.runs[r] as number;
      if (run === PAYLOAD_RUN) {
        flush();
        chunks.push(this.payloads[payload++] as Uint8Array);
      } else if (run < 0) {
        if (BLOCK_BYTES - end < 10) flush();
        end = writeVarint(out, end, -run - 2);
      } else {
        for (let left = run; left > 0; ) {
          let src = sources[source] as Uint8Array;
          if (from === src.length) {
            src = sources[++source] as Uint8Array;
            from = 0;
          }
          if (end === BLOCK_BYTES) flush();
          const n = Math.min(left, src.length - from, BLOCK_BYTES - end);
          if (n < 32) for (let i = 0; i < n; i++) out[end + i] = src[from + i] as number;
          else out.set(src.subarray(from, from + n), end);
          from += n;
          end += n;
          left -= n;
        }
      }
    }
    flush();
    return { chunks, byteLength: this.length };
  }

  private copy(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) {
      if (this.blockEnd === BLOCK_BYTES) this.nextBlock();
      const n = Math.min(bytes.length - at, BLOCK_BYTES - this.blockEnd);
      this.block.set(n === bytes.length ? bytes : bytes.subarray(at, at + n), this.blockEnd);
      this.blockEnd += n;
      at += n;
    }
    this.advance(bytes.length);
  }

  /** Makes room for `bytes` (at most a block) in the current block. */
  private reserve(bytes: number): void {
    if (BLOCK_BYTES - this.blockEnd < bytes) this.nextBlock();
  }

  private advance(bytes: number): void {
    this.pending += bytes;
    this.length += bytes;
  }

  private nextBlock(): void {
    this.blocks.push(this.block.subarray(0, this.blockEnd));
    this.block = new Uint8Array(BLOCK_BYTES);
    this.view = new DataView(this.block.buffer);
    this.blockEnd = 0;
  }

  /** Records the small bytes written since the last run as one run. */
  private endRun(): void {
    if (this.pending === 0) return;
    this.pushRun(this.pending);
    this.pending = 0;
  }

  private pushRun(run: number): void {
    if (this.runCount === this.runs.length) {
      const grown = new Float64Array(this.runs.length * 2);
      grown.set(this.runs);
      this.runs = grown;
    }
    this.runs[this.runCount++] = run;
  }
}

/** Bytes of `value` in UTF-8, a lone surrogate counting as U+FFFD (3 bytes). */
function utf8ByteLength(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}
