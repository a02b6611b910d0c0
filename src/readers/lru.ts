/** A least-recently-used cache bounded in bytes. Entries larger than the whole budget are not kept. */
export class ByteLru<K, V extends { byteLength: number }> {
  private readonly map = new Map<K, V>();
  private used = 0;

  constructor(readonly budget: number) {}

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.used -= old.byteLength;
      this.map.delete(key);
    }
    if (value.byteLength > this.budget) return;
    this.map.set(key, value);
    this.used += value.byteLength;
    while (this.used > this.budget) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      const evicted = this.map.get(oldest.value);
      this.map.delete(oldest.value);
      if (evicted !== undefined) this.used -= evicted.byteLength;
    }
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }
}
