import ParleyCore
import Testing

@Suite("Search normalisation")
struct SearchNormalizationTests {
    @Test(arguments: [
        ("José", "jose"),
        ("  Núñez  García ", "nunez garcia"),
        ("ÅNGSTRÖM", "angstrom"),
        ("François-Xavier", "francois-xavier"),
        ("", ""),
    ])
    func foldsCaseAccentsAndSpace(input: String, expected: String) {
        #expect(SearchNormalization.fold(input) == expected)
    }

    @Test(arguments: [
        ("+1 (415) 555", "1415555"),
        ("+14155551234", "14155551234"),
        ("٣ abc", ""),
        ("no digits", ""),
    ])
    func keepsOnlyASCIIDigits(input: String, expected: String) {
        #expect(SearchNormalization.digits(input) == expected)
    }

    @Test func emailIsTrimmedAndLowercased() {
        #expect(SearchNormalization.email("  Ana.Lopez@Example.COM ") == "ana.lopez@example.com")
    }
}

@Suite("Validation")
struct ValidationTests {
    @Test(arguments: ["ana@example.com", "a.b+c@sub.example.co"])
    func acceptsEmails(_ email: String) {
        #expect(Validation.isPlausibleEmail(email))
    }

    @Test(arguments: ["", "ana", "ana@", "@example.com", "ana@example", "a b@example.com", "a@b@example.com", "ana@.com"])
    func refusesNonEmails(_ email: String) {
        #expect(!Validation.isPlausibleEmail(email))
    }

    @Test(arguments: [("+14155551234", true), ("+4915112345678", true), ("14155551234", false), ("+0123456789", false),
                      ("+1415", false), ("+1415555123456789", false), ("+1415a551234", false)])
    func e164(number: String, valid: Bool) {
        #expect(Validation.isE164(number) == valid)
    }
}

@Suite("Roles")
struct RoleTests {
    @Test func administration() {
        #expect(Role.owner.canAdminister)
        #expect(Role.manager.canAdminister)
        #expect(!Role.agent.canAdminister)
    }

    @Test func granting() {
        #expect(Role.owner.mayGrant(.owner))
        #expect(Role.manager.mayGrant(.manager))
        #expect(Role.manager.mayGrant(.agent))
        #expect(!Role.manager.mayGrant(.owner))
        #expect(!Role.agent.mayGrant(.agent))
    }
}
