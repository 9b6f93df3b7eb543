/**
 * Reusable room for temporary doubles. A large job needs several scratch arrays of one double per
 * worker; allocated afresh on every call they cost more than the arithmetic done in them (a
 * fresh off-heap buffer, zeroed, often on pages the process must fault in). The policy runs
 * synchronously and never calls out while it holds scratch, so each user keeps one instance and
 * takes from it at the start of its work. The room grows to the largest job seen and stays.
 */
export class ScratchDoubles {
  private room = new Float64Array(0);

  /** A view of `count` doubles with unspecified contents, valid until the next `take`. */
  take(count: number): Float64Array {
    if (this.room.length < count) this.room = new Float64Array(count);
    return this.room.subarray(0, count);
  }
}
