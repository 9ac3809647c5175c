import Foundation
import Hummingbird

/// The providers' profile APIs, for contacts whose webhooks carry no name: Meta's
/// `GET /vN/{id}?fields=…`, LINE's `GET /v2/bot/profile/{userId}`, Viber's
/// `POST /pa/get_user_details` and WeChat's `GET /cgi-bin/user/info`. Unknown users get each
/// provider's own "not found" answer.
extension ProviderSimulator {
    /// A user as a provider's profile API describes them.
    public struct SimulatedProfile: Sendable {
        public var firstName: String
        public var lastName: String

        public var name: String { [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ") }
    }

    /// Makes `provider`'s profile API know the user `id`.
    public func setProfile(_ provider: Provider, id: String, firstName: String, lastName: String = "") {
        state.withLock { $0.profiles["\(provider.rawValue):\(id)"] = SimulatedProfile(firstName: firstName, lastName: lastName) }
    }

    func profile(_ provider: Provider, _ id: String) -> SimulatedProfile? {
        state.withLock { $0.profiles["\(provider.rawValue):\(id)"] }
    }

    /// `GET /vN/{PSID or IGSID}?fields=…&access_token=…`.
    func metaProfile(_ request: Recorded) -> Response {
        guard state.withLock({ $0.metaTokens[request.query["access_token"] ?? ""] }) != nil else {
            return Self.metaError(401, code: 190, message: "Invalid OAuth access token.")
        }
        let id = request.path.split(separator: "/").last.map(String.init) ?? ""
        guard let person = profile(.messenger, id) else {
            return Self.metaError(400, code: 100, subcode: 33, message: "Unsupported get request. Object with ID '\(id)' does not exist")
        }
        let fields = Set((request.query["fields"] ?? "").split(separator: ",").map(String.init))
        var body: [String: Any] = ["id": id]
        if fields.contains("first_name") { body["first_name"] = person.firstName }
        if fields.contains("last_name") { body["last_name"] = person.lastName }
        if fields.contains("name") { body["name"] = person.name }
        if fields.contains("username") { body["username"] = person.name.lowercased().replacingOccurrences(of: " ", with: ".") }
        return Self.json(200, body)
    }

    /// `GET /v2/bot/profile/{userId}`.
    func lineProfile(_ request: Recorded) -> Response {
        let id = request.path.split(separator: "/").last.map(String.init) ?? ""
        guard let person = profile(.line, id) else { return Self.lineJSON(404, ["message": "Not found"]) }
        return Self.lineJSON(200, ["userId": id, "displayName": person.name, "language": "en"])
    }

    /// `POST /pa/get_user_details` `{id}`.
    func viberProfile(_ request: Recorded) -> Response {
        guard let id = request.json["id"] as? String, let person = profile(.viber, id) else {
            return Self.json(200, ["status": 3, "status_message": "badData"])
        }
        return Self.json(200, ["status": 0, "status_message": "ok", "message_token": nextId(),
                               "user": ["id": id, "name": person.name, "language": "en", "country": "US", "api_version": 10]])
    }

    /// `GET /cgi-bin/user/info?access_token=…&openid=…`.
    func wechatProfile(_ request: Recorded) -> Response {
        guard let issued = state.withLock({ $0.wechatTokens[request.query["access_token"] ?? ""] }), issued.expiresAt > now() else {
            return Self.json(200, ["errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"])
        }
        let id = request.query["openid"] ?? ""
        guard let person = profile(.wechat, id) else { return Self.json(200, ["errcode": 40003, "errmsg": "invalid openid"]) }
        return Self.json(200, ["subscribe": 1, "openid": id, "nickname": person.name, "language": "zh_CN"])
    }
}
