using Autograd.Benchmarks.CharLm;
using Autograd.Nn;
foreach (var cell in Enum.GetValues<CellKind>())
{
    using var ours = new OursComposedCharLm(CharLmShape.Of(CharLmSize.M), cell);
    using var fused = new TorchFusedCharLm(CharLmShape.Of(CharLmSize.M), cell);
    using var composed = new TorchComposedCharLm(CharLmShape.Of(CharLmSize.M), cell);
    Console.WriteLine($"{cell}: ours {ours.Step()} {ours.Step()} fused {fused.Step()} {fused.Step()}  composed {composed.Step()} {composed.Step()}");
}
