/// Checks for user-supplied values, shared by the API and the command line.
public enum Validation {
    /// A deliberately simple address check: one "@", something on both sides, a dot in the domain,
    /// no whitespace. Deliverability is the mail server's business.
    public static func isPlausibleEmail(_ text: String) -> Bool {
        guard text.count <= 254, !text.contains(where: { $0.isWhitespace }) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].count >= 3 else { return false }
        let domain = parts[1]
        return domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".")
    }

    /// The shortest password accepted for a user.
    public static let minimumPasswordLength = 8

    /// An E.164 phone number: "+", then 8 to 15 digits, the first not zero.
    public static func isE164(_ text: String) -> Bool {
        guard text.first == "+" else { return false }
        let digits = text.dropFirst()
        return (8...15).contains(digits.count)
            && digits.allSatisfy { $0.isASCII && $0.isNumber }
            && digits.first != "0"
    }
}
