"""Pure Python beside the extension."""


def spell(number: int) -> str:
    """The number, digit by digit, in words."""
    names = "zero one two three four five six seven eight nine".split()
    return "-".join(names[int(d)] for d in str(number))
