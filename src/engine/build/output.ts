/**
 * The legacy builder's output for stages that run at once: each stage writes into its own
 * buffer, and the buffers reach the client in stage order (a stage's lines are released as soon
 * as every earlier stage is done), so the stream reads as the sequential legacy builder's.
 */
import type { JSONMessage } from '../images/types.js';

export type Emit = (msg: JSONMessage) => void;

export class OrderedOutput {
  private readonly buffers = new Map<number, JSONMessage[]>();
  private readonly done = new Set<number>();
  private current: number;

  /** `order`: the stage numbers in the order their output goes out. */
  constructor(private readonly order: number[], private readonly emit: Emit) {
    this.current = 0;
  }

  private get head(): number | undefined { return this.order[this.current]; }

  write(stage: number, msg: JSONMessage): void {
    if (stage === this.head) { this.emit(msg); return; }
    let b = this.buffers.get(stage);
    if (!b) this.buffers.set(stage, b = []);
    b.push(msg);
  }

  finish(stage: number): void {
    this.done.add(stage);
    while (this.head !== undefined && this.done.has(this.head)) {
      this.current++;
      const next = this.head;
      if (next === undefined) break;
      for (const m of this.buffers.get(next) ?? []) this.emit(m);
      this.buffers.delete(next);
    }
  }

  /**
   * After `stage` failed: what the stages up to it hold goes out, in order (what later ones
   * printed is dropped, as a sequential build would never have run them).
   */
  flushThrough(stage: number): void {
    const end = this.order.indexOf(stage);
    for (const s of this.order.slice(this.current, end + 1)) {
      if (s === this.head) { this.current++; continue; }
      for (const m of this.buffers.get(s) ?? []) this.emit(m);
      this.buffers.delete(s);
    }
    this.current = this.order.length;
  }
}
