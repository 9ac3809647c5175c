import Hummingbird

extension ProviderSimulator {
    func viber(_ request: Recorded) -> Response {
        Self.json(501, ["error": "not simulated yet"])
    }
}
