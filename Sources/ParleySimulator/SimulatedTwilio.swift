import Crypto
import Foundation
import Hummingbird

/// Twilio Programmable Messaging: `/2010-04-01/Accounts/{Sid}.json` and `…/Messages.json`, with
/// HTTP Basic auth, Twilio's error codes, and signed form webhooks for Parley.
///
/// Form bodies are encoded and decoded here with Foundation rather than with Parley's adapter,
/// so a mistake in the adapter's encoding shows up as a mismatch instead of cancelling out.
extension ProviderSimulator {
    /// A message Twilio accepted.
    public struct TwilioMessage: Sendable {
        public let sid: String
        public let accountSid: String
        public let to: String
        public let from: String?
        public let messagingServiceSid: String?
        public let body: String
        public let statusCallback: String?
    }

    public func acceptTwilioAccount(sid: String, authToken: String) { state.withLock { $0.twilioAccounts[sid] = authToken } }

    /// The number replied STOP: Twilio refuses further messages to it with 21610.
    public func unsubscribeTwilioNumber(_ number: String) { state.withLock { _ = $0.twilioUnsubscribed.insert(number) } }

    public func twilioMessages() -> [TwilioMessage] { state.withLock { $0.twilioMessages } }

    func twilio(_ request: Recorded) -> Response {
        let segments = request.path.split(separator: "/").map(String.init)
        guard segments.count >= 3, segments[1] == "Accounts" else { return Self.twilioError(404, code: 20404, "The requested resource was not found") }
        let pathSid = segments[2].hasSuffix(".json") ? String(segments[2].dropLast(".json".count)) : segments[2]
        guard let (sid, token) = Self.basicCredentials(request.headers["authorization"]), sid == pathSid,
              state.withLock({ $0.twilioAccounts[sid] }) == token else {
            return Self.twilioError(401, code: 20003, "Authenticate")
        }
        switch (request.method, segments.count) {
        case ("GET", 3):
            return Self.json(200, ["sid": sid, "friendly_name": "Parley Simulated", "status": "active", "type": "Full"])
        case ("POST", 4) where segments[3] == "Messages.json":
            return twilioSend(Self.formFields(request.body), account: sid)
        case ("GET", 7) where segments[5] == "Media":
            return twilioMedia(request, accountSid: sid)
        default:
            return Self.twilioError(404, code: 20404, "The requested resource was not found")
        }
    }

    func twilioSend(_ fields: [String: String], account: String) -> Response {
        guard let to = fields["To"], !to.isEmpty else { return Self.twilioError(400, code: 21604, "A 'To' phone number is required.") }
        guard Self.isE164(to) else { return Self.twilioError(400, code: 21211, "The 'To' number \(to) is not a valid phone number.") }
        let from = fields["From"], service = fields["MessagingServiceSid"]
        guard from != nil || service != nil else {
            return Self.twilioError(400, code: 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message.")
        }
        let body = fields["Body"] ?? ""
        guard !body.isEmpty || fields["MediaUrl"]?.hasPrefix("http") == true else { return Self.twilioError(400, code: 21602, "Message body is required.") }
        if state.withLock({ $0.twilioUnsubscribed.contains(to) }) {
            return Self.twilioError(400, code: 21610, "Attempt to send to unsubscribed recipient")
        }
        let sid = "SM" + String(format: "%032x", nextId())
        let message = TwilioMessage(sid: sid, accountSid: account, to: to, from: from, messagingServiceSid: service, body: body,
                                    statusCallback: fields["StatusCallback"])
        state.withLock { $0.twilioMessages.append(message) }
        return Self.json(201, ["sid": sid, "account_sid": account, "to": to, "from": from as Any? ?? NSNull(), "messaging_service_sid": service as Any? ?? NSNull(),
                               "body": body, "status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
                               "uri": "/2010-04-01/Accounts/\(account)/Messages/\(sid).json"])
    }

    static func twilioError(_ status: Int, code: Int, _ message: String) -> Response {
        json(status, ["code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)", "status": status])
    }

    /// `Authorization: Basic base64(sid:token)` as (sid, token).
    static func basicCredentials(_ header: String?) -> (String, String)? {
        guard let header, header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst("Basic ".count))) else { return nil }
        let pair = String(decoding: data, as: UTF8.self).split(separator: ":", maxSplits: 1).map(String.init)
        return pair.count == 2 ? (pair[0], pair[1]) : nil
    }

    static func isE164(_ number: String) -> Bool {
        let digits = number.dropFirst()
        return number.hasPrefix("+") && (2...15).contains(digits.count) && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
            && digits.first != "0"
    }

    /// Decodes a form body ('+' is a space; a literal plus arrives as %2B).
    static func formFields(_ body: [UInt8]) -> [String: String] {
        var components = URLComponents()
        components.percentEncodedQuery = String(decoding: body, as: UTF8.self).replacingOccurrences(of: "+", with: "%20")
        var fields: [String: String] = [:]
        for item in components.queryItems ?? [] where fields[item.name] == nil { fields[item.name] = item.value ?? "" }
        return fields
    }

    // MARK: Webhooks

    /// An inbound SMS as Twilio posts it to `url`, signed with `authToken`.
    public func twilioInbound(from: String, to: String, sid: String, body: String, url: String, authToken: String,
                              accountSid: String = "ACsimulated") -> (body: [UInt8], headers: [(String, String)]) {
        twilioSigned([("MessageSid", sid), ("SmsMessageSid", sid), ("SmsSid", sid), ("AccountSid", accountSid), ("From", from), ("To", to),
                      ("Body", body), ("NumMedia", "0"), ("NumSegments", "1"), ("SmsStatus", "received"), ("ApiVersion", "2010-04-01")],
                     url: url, authToken: authToken)
    }

    /// A status callback for a message this simulator accepted, as Twilio posts it to `url`.
    public func twilioStatus(sid: String, status: String, errorCode: Int? = nil, url: String,
                             authToken: String) -> (body: [UInt8], headers: [(String, String)]) {
        let message = state.withLock { $0.twilioMessages.first { $0.sid == sid } }
        var fields = [("MessageSid", sid), ("SmsSid", sid), ("MessageStatus", status), ("SmsStatus", status),
                      ("AccountSid", message?.accountSid ?? "ACsimulated"), ("To", message?.to ?? ""), ("ApiVersion", "2010-04-01")]
        if let from = message?.from { fields.append(("From", from)) }
        if let errorCode { fields.append(("ErrorCode", String(errorCode))) }
        return twilioSigned(fields, url: url, authToken: authToken)
    }

    func twilioSigned(_ fields: [(String, String)], url: String, authToken: String) -> (body: [UInt8], headers: [(String, String)]) {
        let signed = url + fields.sorted { $0.0 < $1.0 }.map { $0.0 + $0.1 }.joined()
        let signature = Data(HMAC<Insecure.SHA1>.authenticationCode(for: Data(signed.utf8), using: SymmetricKey(data: Data(authToken.utf8))))
            .base64EncodedString()
        var allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        allowed.insert(" ")
        func encode(_ text: String) -> String {
            (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: " ", with: "+")
        }
        let body = fields.map { encode($0.0) + "=" + encode($0.1) }.joined(separator: "&")
        return (Array(body.utf8), [("Content-Type", "application/x-www-form-urlencoded"), ("X-Twilio-Signature", signature)])
    }
}
