export const OBJECT_ID = /^[0-9a-fA-F]{24}$/;


/** User ids appear in channel names, so they are kept to characters that cannot be confused with separators' meaning. */
export const USER_ID = /^[A-Za-z0-9_@:+-][A-Za-z0-9_@:+.-]{0,127}$/;
