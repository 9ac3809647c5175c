import Foundation

/// How a website chat channel looks and behaves on the sites that embed it.
public struct WebchatSettings: Codable, Sendable, Equatable {
    /// Origins (`https://shop.example`) whose pages may embed the widget.
    public var allowedOrigins: [String]
    /// The bubble's and the visitor's messages' colour, `#rrggbb`.
    public var color: String
    /// Shown at the top of an empty conversation.
    public var greeting: String
    /// Ask for name and email before the first message.
    public var prechatForm: Bool
    /// Shown instead of the greeting outside office hours.
    public var offlineText: String
    /// When agents answer; nil: always.
    public var officeHours: OfficeHours?

    public init(allowedOrigins: [String], color: String = "#2563eb", greeting: String = "Hi! How can we help?",
                prechatForm: Bool = false, offlineText: String = "We're away right now. Leave a message and we'll reply by email or here.",
                officeHours: OfficeHours? = nil) {
        self.allowedOrigins = allowedOrigins
        self.color = color
        self.greeting = greeting
        self.prechatForm = prechatForm
        self.offlineText = offlineText
        self.officeHours = officeHours
    }

    /// Office hours: the same opening time on the given weekdays, in one time zone.
    public struct OfficeHours: Codable, Sendable, Equatable {
        /// An IANA zone such as `Europe/Berlin`.
        public var timeZone: String
        /// 1 = Monday … 7 = Sunday.
        public var days: [Int]
        /// `HH:mm`, 24-hour.
        public var opens: String
        public var closes: String

        public init(timeZone: String, days: [Int], opens: String, closes: String) {
            self.timeZone = timeZone
            self.days = days
            self.opens = opens
            self.closes = closes
        }

        /// Whether `date` falls inside the hours (closing time excluded).
        public func isOpen(at date: Date) -> Bool {
            guard let zone = TimeZone(identifier: timeZone), let open = Self.minutes(opens), let close = Self.minutes(closes) else { return true }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
            // Calendar counts Sunday as 1; ISO weekdays count Monday as 1.
            let weekday = ((parts.weekday ?? 1) + 5) % 7 + 1
            let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
            guard days.contains(weekday) else { return false }
            return open <= close ? (open..<close).contains(now) : (now >= open || now < close)
        }

        static func minutes(_ text: String) -> Int? {
            let parts = text.split(separator: ":")
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
                  (0..<24).contains(hours), (0..<60).contains(minutes) else { return nil }
            return hours * 60 + minutes
        }
    }

    /// Whether visitors should be told that nobody is answering now.
    public func isOffline(at date: Date) -> Bool {
        officeHours.map { !$0.isOpen(at: date) } ?? false
    }

    /// The settings with every field checked and normalised, or the first problem found as
    /// (field, message).
    public func validated() -> Result<WebchatSettings, WebchatSettingsError> {
        var settings = self
        guard allowedOrigins.count <= 50 else { return .failure(.init(field: "allowedOrigins", message: "at most 50 sites may embed a widget")) }
        var origins: [String] = []
        for raw in allowedOrigins {
            guard let origin = Self.normalizedOrigin(raw) else {
                return .failure(.init(field: "allowedOrigins", message: "'\(raw.prefix(100))' is not an origin such as https://shop.example"))
            }
            if !origins.contains(origin) { origins.append(origin) }
        }
        settings.allowedOrigins = origins
        let color = color.lowercased()
        guard color.count == 7, color.first == "#", color.dropFirst().allSatisfy(\.isHexDigit) else {
            return .failure(.init(field: "color", message: "a colour is written #rrggbb"))
        }
        settings.color = color
        settings.greeting = greeting.trimmingCharacters(in: .whitespacesAndNewlines)
        guard settings.greeting.count <= 500 else { return .failure(.init(field: "greeting", message: "a greeting is at most 500 characters")) }
        settings.offlineText = offlineText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard settings.offlineText.count <= 500 else { return .failure(.init(field: "offlineText", message: "the offline text is at most 500 characters")) }
        if let hours = officeHours {
            guard TimeZone(identifier: hours.timeZone) != nil else {
                return .failure(.init(field: "officeHours.timeZone", message: "'\(hours.timeZone.prefix(60))' is not a time zone such as Europe/Berlin"))
            }
            guard !hours.days.isEmpty, hours.days.allSatisfy({ (1...7).contains($0) }) else {
                return .failure(.init(field: "officeHours.days", message: "days are 1 (Monday) to 7 (Sunday), at least one"))
            }
            guard OfficeHours.minutes(hours.opens) != nil, OfficeHours.minutes(hours.closes) != nil, hours.opens != hours.closes else {
                return .failure(.init(field: "officeHours", message: "opens and closes are different HH:mm times"))
            }
            settings.officeHours?.days = Array(Set(hours.days)).sorted()
        }
        return .success(settings)
    }

    /// `scheme://host[:port]` in lower case, default ports dropped; nil for anything else
    /// (paths, queries, wildcards).
    public static func normalizedOrigin(_ raw: String) -> String? {
        let text = raw.trimmingCharacters(in: .whitespaces)
        guard text.count <= 300, let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = url.host?.lowercased(), !host.isEmpty,
              url.path.isEmpty || url.path == "/", url.query == nil, url.fragment == nil, url.user == nil,
              host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "[" || $0 == "]" })
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        return "\(scheme)://\(host)" + (url.port.map { $0 == defaultPort ? "" : ":\($0)" } ?? "")
    }
}

public struct WebchatSettingsError: Error, Sendable, Equatable {
    public let field: String
    public let message: String
}
