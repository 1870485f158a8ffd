using Autograd.Benchmarks.CharLm;
using Autograd.Nn;
using TorchSharp;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>
/// <c>--smoke</c>: checks that libtorch loads (torch.ones(2,2)) and that every Char-LM implementation runs two
/// S-size steps with a sane loss (about ln V at initialisation). Exit code 1 on a bad loss.
/// </summary>
public static class SmokeMode
{
    public static int Run()
    {
        using (var ones = torch.ones(2, 2))
            Console.WriteLine($"torch.ones(2, 2).sum() = {ones.sum().item<float>()} (libtorch {torch.__version__})");
        var shape = CharLmShape.Of(CharLmSize.S);
        bool ok = true;
        foreach (var cell in Enum.GetValues<CellKind>())
        {
            foreach (var (name, make) in Implementations())
            {
                using var step = make(shape, cell);
                float first = step.Step(), second = step.Step();
                bool sane = float.IsFinite(first) && float.IsFinite(second) && Math.Abs(first - Math.Log(shape.V)) < 1.0;
                ok &= sane;
                Console.WriteLine($"{cell,-5} {name,-14} loss {first:F5} -> {second:F5}{(sane ? "" : "  <-- not near ln V")}");
            }
        }
        return ok ? 0 : 1;
    }

    private static IEnumerable<(string Name, Func<CharLmShape, CellKind, ICharLmStep> Make)> Implementations()
    {
        yield return ("Ours", (s, c) => new OursComposedCharLm(s, c));
        yield return ("OursReference", (s, c) => new OursReferenceCharLm(s, c));
        yield return ("TorchFused", (s, c) => new TorchFusedCharLm(s, c));
        yield return ("TorchComposed", (s, c) => new TorchComposedCharLm(s, c));
    }
}
