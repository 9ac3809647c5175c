import Hummingbird

extension ProviderSimulator {
    func wechat(_ request: Recorded) -> Response {
        Self.json(501, ["error": "not simulated yet"])
    }
}
