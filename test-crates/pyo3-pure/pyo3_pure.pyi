GREETING: str

def add(a: int, b: int) -> int: ...

class DummyClass:
    @staticmethod
    def get_42() -> int: ...
