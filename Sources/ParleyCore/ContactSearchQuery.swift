import Foundation

/// A search-bar query, split into the parts SPEC §2 searches on.
public struct ContactSearchQuery: Sendable, Equatable {
    /// Folded text matched as a substring of "first last".
    public let name: String
    /// Digits matched as a substring of the phone number's digits, when the query looks like a phone number.
    public let phoneDigits: String?
    /// Matched exactly (case-insensitively) against the email and custom text fields.
    public let exact: String

    /// The fewest digits a phone search needs, so that "2" does not match every number with a 2.
    public static let minimumPhoneDigits = 3

    public init?(_ raw: String) {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        name = SearchNormalization.fold(trimmed)
        exact = trimmed.lowercased()
        let digits = SearchNormalization.digits(trimmed)
        let phoneLike = trimmed.allSatisfy { $0.isASCII && ($0.isNumber || " +-().".contains($0)) }
        phoneDigits = phoneLike && digits.count >= Self.minimumPhoneDigits ? digits : nil
    }
}
