// What a scenario started, undone in reverse order when it ends, also when it fails halfway: processes first, then
// the database they used. One failing step does not keep the others from running.
export class Cleanup {
  private readonly steps: Array<{ label: string; run: () => Promise<unknown> | unknown }> = [];

  constructor(private readonly log: (message: string) => void) {}

  /** Adds a step; steps run last-added first. */
  defer(label: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ label, run });
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        this.log(`cleanup of ${step.label} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
