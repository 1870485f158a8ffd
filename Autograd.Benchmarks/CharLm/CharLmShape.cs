namespace Autograd.Benchmarks.CharLm;

/// <summary>The three standard Char-LM sizes from shared/docs/benchmarks.md.</summary>
public enum CharLmSize { S, M, L }

/// <summary>
/// One Char-LM workload: vocabulary V, batch B, sequence length T, hidden size H, plus a fixed
/// random batch of input ids and next-character targets (both row-major (B, T)).
/// </summary>
public sealed class CharLmShape
{
    public int V { get; }
    public int B { get; }
    public int T { get; }
    public int H { get; }

    /// <summary>Input character ids, row-major (B, T).</summary>
    public int[] Ids { get; }

    /// <summary>Target ids (the input shifted by one character), row-major (B, T).</summary>
    public int[] Targets { get; }

    /// <summary>Characters per step, B·T: what chars/s is computed from.</summary>
    public int CharsPerStep => B * T;

    private CharLmShape(int v, int b, int t, int h)
    {
        V = v; B = b; T = t; H = h;
        // Deterministic data: one stream of B*T+1 characters cut so targets are inputs shifted by one.
        var random = new Random(1234);
        var stream = new int[b * t + 1];
        for (int i = 0; i < stream.Length; i++) stream[i] = random.Next(v);
        Ids = stream[..(b * t)];
        Targets = stream[1..];
    }

    /// <summary>The shape table of benchmarks.md.</summary>
    public static CharLmShape Of(CharLmSize size) => size switch
    {
        CharLmSize.S => new CharLmShape(65, 1, 256, 32),
        CharLmSize.M => new CharLmShape(65, 32, 64, 256),
        CharLmSize.L => new CharLmShape(65, 64, 128, 512),
        _ => throw new ArgumentOutOfRangeException(nameof(size), size, "CharLmShape.Of: unknown size."),
    };
}
