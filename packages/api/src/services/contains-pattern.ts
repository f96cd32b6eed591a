// Searches by a part of a text: the LIKE pattern that finds what a person typed anywhere.

/** `%text%`, with the text's own `%`, `_` and `\` taken literally (backslash is LIKE's escape). */
export const containsPattern = (text: string) =>
  `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
