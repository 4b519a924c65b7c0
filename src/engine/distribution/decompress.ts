/** Layer decompression lives with the layers (layers/decompress.ts: the extraction worker uses it). */
export * from '../layers/decompress.js';
