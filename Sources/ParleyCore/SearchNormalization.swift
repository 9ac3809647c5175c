import Foundation

/// How contact fields are normalised for search, so that the stored search columns and the
/// query text are folded the same way.
public enum SearchNormalization {
    /// Lowercased, diacritics removed, whitespace collapsed: "  José  Núñez " → "jose nunez".
    public static func fold(_ text: String) -> String {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// Only the ASCII digits of a phone number: "+1 (415) 555" → "1415555".
    public static func digits(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 48 && $0.value <= 57 }.map(Character.init))
    }

    /// An email address as compared for exact match: trimmed and lowercased.
    public static func email(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
