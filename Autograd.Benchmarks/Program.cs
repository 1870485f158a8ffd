using Autograd.Benchmarks.CharLm;
foreach (var cell in Enum.GetValues<CellKind>())
{
    using var fused = new TorchFusedCharLm(CharLmShape.Of(CharLmSize.M), cell);
    using var composed = new TorchComposedCharLm(CharLmShape.Of(CharLmSize.M), cell);
    Console.WriteLine($"{cell}: fused {fused.Step()} {fused.Step()}  composed {composed.Step()} {composed.Step()}");
}
