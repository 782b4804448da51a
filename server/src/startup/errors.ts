/**
 * A start-up failure the user can fix, already said in one line that names what to change (a
 * variable, a tool to install). The entry point prints the message alone: no JSON, no stack.
 */
export class StartupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StartupError';
  }
}
