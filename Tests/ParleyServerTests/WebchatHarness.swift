import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ParleyServer
import Testing

/// A website chat channel made through the API, and calls as its widget makes them.
struct WebchatSite {
    static let origin = "https://shop.example"

    let api: APIHarness
    let channelId: Int64
    let key: String
    let identitySecret: String

    static func create(_ api: APIHarness, settings: [String: Any] = [:]) async throws -> WebchatSite {
        var webchat: [String: Any] = ["allowedOrigins": [origin]]
        for (name, value) in settings { webchat[name] = value }
        let created = try await api.send(.post, "/api/v1/channels", json: ["type": "webchat", "name": "Shop chat", "webchat": webchat])
        #expect(created.status == .created, "\(created.text)")
        let view = try #require(created.json["webchat"] as? [String: Any])
        return WebchatSite(api: api, channelId: try #require((created.json["id"] as? NSNumber)?.int64Value),
                           key: try #require(view["key"] as? String), identitySecret: try #require(view["identitySecret"] as? String))
    }

    /// A widget call: the visitor's token, the embedding page's origin, optionally a browser's Origin.
    func call(_ method: HTTPRequest.Method, _ uri: String, visitor: String? = nil, host: String? = WebchatSite.origin,
              origin: String? = nil, json: [String: Any]? = nil) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let visitor { headers[HTTPField.Name("X-Parley-Visitor")!] = visitor }
        if let host { headers[HTTPField.Name("X-Parley-Host")!] = host }
        if let origin { headers[.origin] = origin }
        return try await APIHarness.send(api.client, method, uri, headers: headers, json: json)
    }

    /// Starts (or resumes) a visitor; returns the session's answer.
    func session(token: String? = nil, user: [String: Any]? = nil, host: String? = WebchatSite.origin) async throws -> Reply {
        var body: [String: Any] = ["channel": key]
        if let token { body["token"] = token }
        if let user { body["user"] = user }
        return try await call(.post, "/widget/v1/session", host: host, json: body)
    }

    /// A new anonymous visitor's token.
    func visitor() async throws -> String {
        let reply = try await session()
        #expect(reply.status == .ok, "\(reply.text)")
        return try #require(reply.json["token"] as? String)
    }

    func write(_ token: String, _ text: String, extra: [String: Any] = [:]) async throws -> Reply {
        var body: [String: Any] = ["text": text]
        for (name, value) in extra { body[name] = value }
        return try await call(.post, "/widget/v1/messages", visitor: token, json: body)
    }

    func hash(_ identifier: String, secret: String? = nil) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(identifier.utf8), using: SymmetricKey(data: Data((secret ?? identitySecret).utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// The contact a visitor became, found by their channel identity.
    func contactId(of token: String) async throws -> Int64 {
        let visitor = try #require(try await api.services.webchat.visitor(channelId: channelId, externalId: try externalId(of: token)))
        return visitor.contactId
    }

    /// Reads the address a token names (its claims are plain base64url JSON).
    func externalId(of token: String) throws -> String {
        let first = try #require(token.split(separator: ".").first)
        var payload = String(first).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        let data = try #require(Data(base64Encoded: payload))
        let claims = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(claims["v"] as? String)
    }
}
