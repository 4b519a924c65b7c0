// The tar writer lives in util/ (the CLI tars build contexts with it too).
export * from '../../util/tar-writer.js';
