/**
 * Float32Array <-> little-endian bytes, the layout of a packed `repeated float`.
 * Inverses of each other.
 *
 * @packageDocumentation
 */

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The float32 values stored little-endian in `bytes`. Shares memory with `bytes`
 * when it can (4-byte aligned, little-endian host), copies otherwise.
 *
 * @param bytes - a payload whose length is a multiple of 4
 * @returns the values; a view of `bytes` or a copy
 */
export function float32FromBytes(bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength >>> 2;
  if (littleEndian) {
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(0, count * 4));
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/**
 * The little-endian bytes of `values`: a view of the same memory on a
 * little-endian host, a copy elsewhere.
 *
 * @param values - float32 values
 * @returns their bytes, 4 per value
 */
export function float32ToBytes(values: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i] as number, true);
  return out;
}
