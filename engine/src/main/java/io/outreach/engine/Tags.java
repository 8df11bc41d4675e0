package io.outreach.engine;

/**
 * Event tags for projections: a fixed list {@code <prefix>-0 .. <prefix>-(n-1)} chosen by a hash of
 * the entity id. {@code n} must never change once events exist, or projections miss events.
 */
public final class Tags {
  private Tags() {}

  public static String slice(String prefix, String entityId, int slices) {
    return prefix + "-" + Math.floorMod(entityId.hashCode(), slices);
  }

  public static String slice(String prefix, int index) {
    return prefix + "-" + index;
  }
}
