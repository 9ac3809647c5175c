import Foundation
import ParleyCore
import Testing

@Suite("Website chat settings")
struct WebchatSettingsTests {
    /// 2026-11-30 is a Monday.
    static func date(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text))
    }

    @Test func officeHoursFollowTheirTimeZone() throws {
        let hours = WebchatSettings.OfficeHours(timeZone: "Europe/Berlin", days: [1, 2, 3, 4, 5], opens: "09:00", closes: "17:00")
        #expect(hours.isOpen(at: try Self.date("2026-11-30T08:30:00Z")))       // 09:30 in Berlin
        #expect(!hours.isOpen(at: try Self.date("2026-11-30T07:59:00Z")))      // 08:59
        #expect(!hours.isOpen(at: try Self.date("2026-11-30T16:00:00Z")))      // 17:00, closing time excluded
        #expect(!hours.isOpen(at: try Self.date("2026-11-29T10:00:00Z")))      // a Sunday
        let night = WebchatSettings.OfficeHours(timeZone: "UTC", days: [1], opens: "22:00", closes: "06:00")
        #expect(night.isOpen(at: try Self.date("2026-11-30T23:00:00Z")))
        #expect(!night.isOpen(at: try Self.date("2026-11-30T12:00:00Z")))
        var settings = WebchatSettings(allowedOrigins: [])
        #expect(!settings.isOffline(at: try Self.date("2026-11-29T10:00:00Z")), "no hours: always answering")
        settings.officeHours = hours
        #expect(settings.isOffline(at: try Self.date("2026-11-29T10:00:00Z")))
    }

    @Test func originsAreNormalisedAndAnythingElseRefused() throws {
        #expect(WebchatSettings.normalizedOrigin("HTTPS://Shop.Example:443/") == "https://shop.example")
        #expect(WebchatSettings.normalizedOrigin("http://localhost:3000") == "http://localhost:3000")
        for bad in ["shop.example", "https://shop.example/path", "https://*.example", "ftp://shop.example", "https://shop.example?x=1",
                    "https://user@shop.example", "javascript:alert(1)"] {
            #expect(WebchatSettings.normalizedOrigin(bad) == nil, "\(bad)")
        }
        let settings = WebchatSettings(allowedOrigins: ["https://a.example", "HTTPS://A.example"], color: "#ABCDEF")
        #expect(try settings.validated().get().allowedOrigins == ["https://a.example"])
        #expect(try settings.validated().get().color == "#abcdef")
        var hours = settings
        hours.officeHours = .init(timeZone: "Mars/Olympus", days: [1], opens: "09:00", closes: "17:00")
        #expect(throws: WebchatSettingsError.self) { try hours.validated().get() }
        hours.officeHours = .init(timeZone: "UTC", days: [8], opens: "09:00", closes: "17:00")
        #expect(throws: WebchatSettingsError.self) { try hours.validated().get() }
        hours.officeHours = .init(timeZone: "UTC", days: [1], opens: "9:00", closes: "17:00")
        #expect(throws: WebchatSettingsError.self) { try hours.validated().get() }
    }
}
