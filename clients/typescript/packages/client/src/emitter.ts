/** A minimal typed event emitter: `on` returns the function that removes the listener. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) {
      set = new Set();
      this.listeners.set(name, set);
    }
    set.add(listener as (value: never) => void);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: (value: Events[K]) => void): void {
    const set = this.listeners.get(name);
    if (set) {
      set.delete(listener as (value: never) => void);
      if (set.size === 0) this.listeners.delete(name);
    }
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const set = this.listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch (error) {
        // A listener's failure must not break delivery to the others, nor the connection.
        console.error('@tether/client: a listener threw', error);
      }
    }
  }

  /** Number of listeners (all names); for leak checks. */
  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
