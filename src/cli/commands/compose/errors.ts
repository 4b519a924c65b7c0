// The compose commands' user-facing error: printed as it is, exit status 1 (as docker compose).
import { StatusError } from '../../context.js';

export class ComposeError extends StatusError {
  constructor(message: string) {
    super(1, message);
    this.name = 'ComposeError';
  }
}
