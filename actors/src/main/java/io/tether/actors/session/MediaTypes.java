package io.tether.actors.session;

import java.util.Locale;

/** Content-type helpers shared by the stream entity and the HTTP layer. */
public final class MediaTypes {
  private MediaTypes() {}

  /** The media type of a content type, lower case, without parameters; null for null. */
  public static String essence(String contentType) {
    if (contentType == null) {
      return null;
    }
    int semicolon = contentType.indexOf(';');
    String type = semicolon >= 0 ? contentType.substring(0, semicolon) : contentType;
    return type.trim().toLowerCase(Locale.ROOT);
  }

  /** Whether items of this content type are JSON messages (never split across events). */
  public static boolean isJson(String contentType) {
    return "application/json".equals(essence(contentType));
  }

  /** Whether two content types name the same media type. */
  public static boolean sameEssence(String a, String b) {
    return java.util.Objects.equals(essence(a), essence(b));
  }
}
