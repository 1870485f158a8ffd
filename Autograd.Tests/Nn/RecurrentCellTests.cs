using System.Text.RegularExpressions;
using Autograd.CharLm;
using Autograd.Nn;

namespace Autograd.Tests.Nn;

/// <summary>
/// The cell abstraction: each cell's descriptor and its layer agree on the parameter layout for every option,
/// an unknown kind is an error everywhere (never a silent LSTM), and nothing outside the cell files switches on the kind.
/// </summary>
public class RecurrentCellTests
{
    public static IEnumerable<TestCaseData> Variants()
    {
        foreach (var cell in RecurrentCell.All)
            foreach (bool projection in new[] { true, false })
                foreach (bool recurrentBias in new[] { false, true })
                    foreach (bool resetAfter in new[] { false, true })
                        yield return new TestCaseData(cell.Kind, projection, recurrentBias, resetAfter)
                            .SetName($"{cell.Name}{(projection ? "_Projection" : "")}{(recurrentBias ? "_RecurrentBias" : "")}{(resetAfter ? "_ResetAfter" : "")}");
    }

    [TestCaseSource(nameof(Variants))]
    public void BuiltLayer_MatchesItsCellsLayout_AndItsGatesCoverEveryWeightRow(CellKind kind, bool projection, bool recurrentBias, bool resetAfter)
    {
        const int F = 3, H = 4, O = 5;
        var cell = RecurrentCell.Get(kind);
        var options = new RecurrentOptions { RecurrentBias = recurrentBias, GruResetAfter = resetAfter };
        var layer = projection ? cell.CreateLayer<double>(H, O, options) : cell.CreateLayer<double>(H, options);
        Assert.That(layer.Cell, Is.SameAs(cell));
        Assert.That(layer.OutputSize, Is.EqualTo(projection ? O : H));
        layer.Build(F);
        var named = layer.NamedParameters().Select(p => (p.Name, Shape: p.Parameter.Shape.ToArray())).ToArray();
        Assert.That(named, Is.EqualTo(layer.Layout(F)), "instance parameters = the cell's layout (+ W_v, B_v)");
        Assert.That(named.Take(named.Length - (projection ? 2 : 0)), Is.EqualTo(cell.Parameters(F, H, options)));
        var extra = named.SkipLast(projection ? 2 : 0).Select(p => p.Name).Except(cell.Parameters(F, H, options with { RecurrentBias = false }).Select(p => p.Name));
        Assert.That(extra, Is.EqualTo(recurrentBias ? cell.GateNames.Select(g => "B_h" + g) : []), "the recurrent biases come last, one per gate");

        // Every gate, in the cell's order; each weight row belongs to exactly one gate block.
        var gates = layer.Gates();
        Assert.That(gates.Select(g => g.Name), Is.EqualTo(cell.GateNames));
        Assert.That(cell.OnnxGateOrder.Order(), Is.EqualTo(cell.GateNames.Order()), "ONNX order is a permutation of the gates");
        Assert.That(cell.PyTorchGateOrder.Order(), Is.EqualTo(cell.GateNames.Order()), "PyTorch order is a permutation of the gates");
        var covered = new Dictionary<Tensor<double>, int>(ReferenceEqualityComparer.Instance);
        foreach (var g in gates)
        {
            Assert.That((g.Input.Count, g.Input.Columns, g.Recurrent.Count, g.Recurrent.Columns), Is.EqualTo((F, H, H, H)), g.Name);
            Assert.That(g.RecurrentBias is not null, Is.EqualTo(recurrentBias), g.Name);
            foreach (var rows in new[] { g.Input, g.Recurrent }) covered[rows.Parameter] = covered.GetValueOrDefault(rows.Parameter) + rows.Count;
        }
        foreach (var (name, p) in layer.NamedParameters().Where(p => p.Name.StartsWith("W_", StringComparison.Ordinal) && p.Name != "W_v"))
            Assert.That(covered.GetValueOrDefault(p), Is.EqualTo(p.Size(0)), $"{name}: rows covered by gates");
    }

    [Test]
    public void UnknownCellKind_IsAnErrorEverywhere()
    {
        var unknown = (CellKind)42;
        Assert.That(() => RecurrentCell.Get(unknown), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("unknown cell kind 42"));
        Assert.That(() => RecurrentLayer<float>.Layout(unknown, 3, 4, 5), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("42"));
        Assert.That(() => new CharModelConfig(unknown).Validate(), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("unknown cell kind 42"));
        Assert.That(() => new CharModelConfig(unknown).ParameterCount(10), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => new CharLanguageModel(Vocabulary.FromText("ab"), new CharModelConfig(unknown, 4)), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(() => CharModelConfig.Name(unknown), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(CharModelConfig.TryParseCell("peephole", out _), Is.False);
        Assert.That(RecurrentCell.TryParse("LSTM", out var lstm) && lstm.Kind == CellKind.Lstm, Is.True);
    }

    [Test]
    public void EveryCellKindIsRegisteredOnce()
    {
        Assert.That(RecurrentCell.All.Select(c => c.Kind), Is.EquivalentTo(Enum.GetValues<CellKind>()));
        Assert.That(RecurrentCell.All.Select(c => c.Name).Distinct().Count(), Is.EqualTo(RecurrentCell.All.Count));
        foreach (var cell in RecurrentCell.All) Assert.That(RecurrentCell.Get(cell.Kind), Is.SameAs(cell));
    }

    /// <summary>
    /// The cell kind is data the cells own: outside the cell files no code compares with, cases on or maps
    /// from a <c>CellKind</c> member (the issue found seven such places, several falling back to LSTM).
    /// </summary>
    [Test]
    public void NoCodeOutsideTheCellsSwitchesOnTheCellKind()
    {
        var root = Path.GetFullPath(Path.Combine(PathToRepo(), "."));
        var cellFiles = new[] { "RnnLayer.cs", "GruLayer.cs", "LstmLayer.cs", "RecurrentCell.cs" };
        var pattern = new Regex(@"(==|!=)\s*CellKind\.\w+|CellKind\.\w+\s*(==|!=|=>)|case\s+CellKind\.|\bis\s+CellKind\.");
        var offenders = new List<string>();
        foreach (var project in new[] { "Autograd.Nn", "Autograd.Onnx", "Autograd.CharLm", "Autograd.Cli" })
            foreach (var file in Directory.EnumerateFiles(Path.Combine(root, project), "*.cs", SearchOption.AllDirectories))
            {
                if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") || cellFiles.Contains(Path.GetFileName(file))) continue;
                var lines = File.ReadAllLines(file);
                for (int i = 0; i < lines.Length; i++)
                    if (pattern.IsMatch(lines[i])) offenders.Add($"{Path.GetRelativePath(root, file)}:{i + 1}: {lines[i].Trim()}");
            }
        Assert.That(offenders, Is.Empty);
    }

    private static string PathToRepo()
    {
        for (var d = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "Autograd.sln"))) return d.FullName;
        throw new InvalidOperationException("no Autograd.sln above the test directory");
    }
}
