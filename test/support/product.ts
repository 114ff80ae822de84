/** The number of elements of a tensor of `shape` (1 for a scalar's empty shape). */
export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
