using System.Globalization;

namespace Autograd.Nn.Testing;

/// <summary>Settings of a <see cref="ModuleGradCheck"/>.</summary>
public sealed record ModuleGradCheckOptions
{
    /// <summary>The (batch, time) shapes checked; every one runs all three comparisons.</summary>
    public IReadOnlyList<(int Batch, int Time)> Shapes { get; init; } = [(1, 1), (2, 3), (3, 6)];

    /// <summary>Seeds the input, the initial state and the output weights (the parameters are the target's own).</summary>
    public int Seed { get; init; }

    /// <summary>Standard deviation of the random initial state (the input is standard normal).</summary>
    public double StateScale { get; init; } = 0.5;

    /// <summary>Central-difference step ε: (f(x+ε) − f(x−ε)) / 2ε.</summary>
    public double FiniteDifferenceStep { get; init; } = 1e-5;

    /// <summary>A gradient agrees with finite differences when |a − fd| ≤ abs + rel·|fd|; this is rel.</summary>
    public double FiniteDifferenceRelativeTolerance { get; init; } = 1e-6;

    /// <summary>The abs of <see cref="FiniteDifferenceRelativeTolerance"/>: the round-off of the differenced loss.</summary>
    public double FiniteDifferenceAbsoluteTolerance { get; init; } = 1e-8;

    /// <summary>Autodiff agrees with the reference when |a − r| ≤ abs + rel·|r|; this is rel (both are exact up to rounding).</summary>
    public double ReferenceRelativeTolerance { get; init; } = 1e-9;

    /// <summary>The abs of <see cref="ReferenceRelativeTolerance"/>.</summary>
    public double ReferenceAbsoluteTolerance { get; init; } = 1e-12;

    /// <exception cref="ArgumentException">No shapes, a non-positive size, or a tolerance or step that is negative or not finite.</exception>
    internal void Validate()
    {
        if (Shapes is null || Shapes.Count == 0) throw new ArgumentException("ModuleGradCheckOptions: at least one (batch, time) shape is needed.");
        foreach (var (b, t) in Shapes)
            if (b <= 0 || t <= 0) throw new ArgumentException($"ModuleGradCheckOptions: shape (batch {b}, time {t}) must be positive.");
        foreach (var (v, what) in new[] { (StateScale, "StateScale"), (FiniteDifferenceRelativeTolerance, "FiniteDifferenceRelativeTolerance"),
                     (FiniteDifferenceAbsoluteTolerance, "FiniteDifferenceAbsoluteTolerance"), (ReferenceRelativeTolerance, "ReferenceRelativeTolerance"),
                     (ReferenceAbsoluteTolerance, "ReferenceAbsoluteTolerance") })
            if (!(v >= 0 && double.IsFinite(v))) throw new ArgumentException($"ModuleGradCheckOptions: {what} must be finite and >= 0, got {v}.");
        if (!(FiniteDifferenceStep > 0 && double.IsFinite(FiniteDifferenceStep)))
            throw new ArgumentException($"ModuleGradCheckOptions: FiniteDifferenceStep must be finite and > 0, got {FiniteDifferenceStep}.");
    }
}

/// <summary>The three comparisons of a gradient check, each a pair (checked value, oracle).</summary>
public enum GradCheckComparison
{
    /// <summary>Our autodiff gradient against central finite differences of our forward.</summary>
    AutodiffVsFiniteDifferences,

    /// <summary>Our autodiff gradient (and forward output) against the hand-derived reference.</summary>
    AutodiffVsReference,

    /// <summary>The reference's gradient against finite differences of our forward: checks the oracle itself.</summary>
    ReferenceVsFiniteDifferences,
}

/// <summary>One disagreement beyond tolerance.</summary>
/// <param name="Quantity">The parameter name, <c>input</c>, <c>state h</c>..., or <c>output</c> (forward values).</param>
/// <param name="Comparison">Which pair disagreed.</param>
/// <param name="Batch">B of the shape checked.</param>
/// <param name="Time">T of the shape checked.</param>
/// <param name="Index">The element's multi-index in the quantity's shape.</param>
/// <param name="Value">The checked value (autodiff, or the reference's for <see cref="GradCheckComparison.ReferenceVsFiniteDifferences"/>).</param>
/// <param name="Expected">The oracle's value (finite differences or the reference).</param>
public sealed record GradCheckMismatch(string Quantity, GradCheckComparison Comparison, int Batch, int Time, int[] Index, double Value, double Expected)
{
    /// <inheritdoc />
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var (checkedName, oracle) = Comparison switch
        {
            GradCheckComparison.AutodiffVsFiniteDifferences => ("autodiff", "finite differences"),
            GradCheckComparison.AutodiffVsReference => ("autodiff", "reference"),
            _ => ("reference", "finite differences"),
        };
        string what = Quantity == "output" ? "output" : $"d loss / d {Quantity}";
        return string.Create(inv, $"batch {Batch}, time {Time}: {what} element [{string.Join(", ", Index)}]: {checkedName} {Value:R} vs {oracle} {Expected:R} (|diff| {Math.Abs(Value - Expected):E2})");
    }
}

/// <summary>The largest errors of one comparison over every element and shape.</summary>
/// <param name="MaxAbsolute">max |value − oracle|.</param>
/// <param name="MaxRelative">max |value − oracle| / max(|oracle|, abs/rel tolerance): relative, with near-zero oracles counted absolutely.</param>
/// <param name="Failures">Elements beyond tolerance.</param>
public sealed record GradCheckError(double MaxAbsolute, double MaxRelative, int Failures);

/// <summary>One line of the report: a parameter, the input, a state or the output, and its errors per comparison.</summary>
/// <param name="Quantity">The parameter name, <c>input</c>, <c>state h</c>..., or <c>output</c>.</param>
/// <param name="Shape">Its shape as text, with B and T for per-batch quantities.</param>
/// <param name="Errors">Errors per comparison run (none without a reference for the reference columns; the output row has only autodiff vs reference).</param>
public sealed record GradCheckRow(string Quantity, string Shape, IReadOnlyDictionary<GradCheckComparison, GradCheckError> Errors);

/// <summary>What <see cref="ModuleGradCheck.Run"/> found.</summary>
public sealed class ModuleGradCheckReport
{
    internal ModuleGradCheckReport(string target, bool hasReference, ModuleGradCheckOptions options, IReadOnlyList<GradCheckRow> rows, IReadOnlyList<GradCheckMismatch> mismatches)
    {
        Target = target;
        HasReference = hasReference;
        Options = options;
        Rows = rows;
        Mismatches = mismatches;
    }

    /// <summary>The target's name.</summary>
    public string Target { get; }

    /// <summary>Whether a reference was compared.</summary>
    public bool HasReference { get; }

    /// <summary>The settings used.</summary>
    public ModuleGradCheckOptions Options { get; }

    /// <summary>One row per parameter (in the target's order), then <c>input</c>, each state, and <c>output</c> when there is a reference.</summary>
    public IReadOnlyList<GradCheckRow> Rows { get; }

    /// <summary>The worst element beyond tolerance of each quantity, comparison and shape that had one, in the order checked.</summary>
    public IReadOnlyList<GradCheckMismatch> Mismatches { get; }

    /// <summary>No mismatch.</summary>
    public bool Passed => Mismatches.Count == 0;

    /// <summary>Throws when any element disagreed.</summary>
    /// <exception cref="GradCheckException">The message names the target, the quantity (parameter, input or state), the element, both values and how many others failed.</exception>
    public void ThrowIfFailed()
    {
        if (Passed) return;
        int failures = Rows.Sum(r => r.Errors.Values.Sum(e => e.Failures));
        string more = failures > 1 ? $" ({failures} element comparisons beyond tolerance in all)" : "";
        throw new GradCheckException($"ModuleGradCheck {Target}: {Mismatches[0]}{more}.");
    }

    /// <summary>The per-quantity table: max absolute and relative error of each comparison.</summary>
    public string ToTable()
    {
        var inv = CultureInfo.InvariantCulture;
        var comparisons = HasReference
            ? new[] { GradCheckComparison.AutodiffVsFiniteDifferences, GradCheckComparison.AutodiffVsReference, GradCheckComparison.ReferenceVsFiniteDifferences }
            : [GradCheckComparison.AutodiffVsFiniteDifferences];
        string[] titles = ["autodiff vs FD", "autodiff vs reference", "reference vs FD"];
        int nameWidth = Math.Max(8, Rows.Max(r => r.Quantity.Length)) + 2;
        int shapeWidth = Math.Max(5, Rows.Max(r => r.Shape.Length)) + 2;
        const int Cell = 24;
        var sb = new System.Text.StringBuilder();
        sb.Append("quantity".PadRight(nameWidth)).Append("shape".PadRight(shapeWidth));
        foreach (var c in comparisons) sb.Append(titles[(int)c].PadRight(Cell));
        sb.AppendLine().Append(new string(' ', nameWidth + shapeWidth));
        foreach (var _ in comparisons) sb.Append("max abs   max rel".PadRight(Cell));
        sb.AppendLine();
        foreach (var row in Rows)
        {
            sb.Append(row.Quantity.PadRight(nameWidth)).Append(row.Shape.PadRight(shapeWidth));
            foreach (var c in comparisons)
            {
                string cell = row.Errors.TryGetValue(c, out var e)
                    ? string.Create(inv, $"{e.MaxAbsolute,-9:0.0E+00} {e.MaxRelative:0.0E+00}{(e.Failures > 0 ? " FAIL" : "")}")
                    : "-";
                sb.Append(cell.PadRight(Cell));
            }
            sb.AppendLine();
        }
        return sb.ToString().TrimEnd();
    }
}

/// <summary>
/// The gradient-check harness for modules built from engine ops: our autodiff against central
/// finite differences (double) and, optionally, against a hand-derived reference with its own
/// backward, for every parameter, the input and the initial state, over several (batch, time)
/// shapes. Loss = Σ output ⊙ G with random G, so every output element is weighted.
/// </summary>
/// <example>
/// <code>
/// var layer = new LstmLayer&lt;double&gt;(4, 3, new() { Init = InitScheme.XavierOrthogonal });
/// var target = GradCheckTarget.FromLayer(layer, inputSize: 5);
/// var report = ModuleGradCheck.Run(target, SeedReferenceCell.For(layer));
/// Console.WriteLine(report.ToTable());
/// report.ThrowIfFailed();
/// </code>
/// </example>
public static class ModuleGradCheck
{
    /// <summary>Runs every comparison and returns the report (never throws on a mismatch; see <see cref="Assert"/>).</summary>
    /// <param name="target">The module under test; its parameters keep their values (restored after each perturbation) and are set to require grad.</param>
    /// <param name="reference">An independent oracle, or null to compare with finite differences only.</param>
    /// <param name="options">Shapes, seed, step and tolerances; null for the defaults.</param>
    /// <exception cref="ArgumentException">Invalid options, or the reference's results do not have the target's shapes or names.</exception>
    public static ModuleGradCheckReport Run(GradCheckTarget target, IGradCheckReference? reference = null, ModuleGradCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        options ??= new ModuleGradCheckOptions();
        options.Validate();
        var parameters = target.NamedParameters().ToArray();
        var stateSpec = target.State;
        var quantities = new List<Quantity>();
        foreach (var (name, p) in parameters) quantities.Add(new Quantity(name, Tensor.FormatShape(p.Shape)));
        quantities.Add(new Quantity("input", $"(B, T, {target.InputSize})"));
        foreach (var (name, size) in stateSpec) quantities.Add(new Quantity("state " + name, $"(B, {size})"));
        var output = new Quantity("output", "(B, T, ...)");
        var mismatches = new List<GradCheckMismatch>();

        foreach (var (batch, time) in options.Shapes)
        {
            // Not HashCode.Combine: it is randomised per process, and the same options must draw the same data.
            var rng = new Random(unchecked(options.Seed * 1_000_003 + batch * 1_009 + time));
            var input = Tensor.Randn<double>(rng, batch, time, target.InputSize);
            var state = stateSpec.Select(s => Scaled(Tensor.Randn<double>(rng, batch, s.Size), options.StateScale)).ToArray();

            // Autodiff.
            foreach (var (_, p) in parameters)
            {
                p.RequiresGrad = true;
                p.ZeroGrad();
            }
            input.RequiresGrad = true;
            foreach (var s in state) s.RequiresGrad = true;
            var y = target.Forward(input, state);
            var g = Tensor.Randn<double>(rng, y.Shape.ToArray());
            var gv = g.ToArray();
            y.Backward(g);
            var autodiff = new List<double[]>();
            foreach (var (_, p) in parameters) autodiff.Add(p.Grad?.ToArray() ?? new double[p.Length]);
            autodiff.Add(input.Grad?.ToArray() ?? new double[input.Length]);
            var stateGrads = target.StateGradients(state);
            for (int i = 0; i < state.Length; i++) autodiff.Add(stateGrads[i]?.ToArray() ?? new double[state[i].Length]);
            var yValues = y.ToArray();
            input.RequiresGrad = false;
            foreach (var s in state) s.RequiresGrad = false;

            // Finite differences of the same loss, every element of every parameter, the input and the state.
            double Loss()
            {
                using var _ = Tensor.NoGrad();
                var o = target.Forward(input, state).AsSpan();
                double sum = 0;
                for (int i = 0; i < o.Length; i++) sum += o[i] * gv[i];
                return sum;
            }
            var perturbed = parameters.Select(p => p.Parameter).Append(input).Concat(state).ToArray();
            var numeric = perturbed.Select(t => FiniteDifferences(t, Loss, options.FiniteDifferenceStep)).ToArray();

            // The reference, from the same values.
            double[][]? fromReference = null;
            if (reference is not null)
            {
                var result = reference.Run(new ReferenceRequest(
                    parameters.ToDictionary(p => p.Name, p => p.Parameter.ToArray(), StringComparer.Ordinal),
                    input.ToArray(), batch, time, state.Select(s => s.ToArray()).ToArray(), gv));
                fromReference = CheckReferenceShapes(result, parameters, input, state, yValues.Length);
                Compare(output, GradCheckComparison.AutodiffVsReference, yValues, result.Output, y.Shape.ToArray(), batch, time,
                    options.ReferenceAbsoluteTolerance, options.ReferenceRelativeTolerance, mismatches);
            }

            for (int k = 0; k < perturbed.Length; k++)
            {
                var shape = perturbed[k].Shape.ToArray();
                Compare(quantities[k], GradCheckComparison.AutodiffVsFiniteDifferences, autodiff[k], numeric[k], shape, batch, time,
                    options.FiniteDifferenceAbsoluteTolerance, options.FiniteDifferenceRelativeTolerance, mismatches);
                if (fromReference is null) continue;
                Compare(quantities[k], GradCheckComparison.AutodiffVsReference, autodiff[k], fromReference[k], shape, batch, time,
                    options.ReferenceAbsoluteTolerance, options.ReferenceRelativeTolerance, mismatches);
                Compare(quantities[k], GradCheckComparison.ReferenceVsFiniteDifferences, fromReference[k], numeric[k], shape, batch, time,
                    options.FiniteDifferenceAbsoluteTolerance, options.FiniteDifferenceRelativeTolerance, mismatches);
            }
        }

        var rows = quantities.Append(output).Where(q => q.Errors.Count > 0)
            .Select(q => new GradCheckRow(q.Name, q.Shape, q.Errors.ToDictionary(e => e.Key, e => e.Value.ToError()))).ToArray();
        return new ModuleGradCheckReport(target.Name, reference is not null, options, rows, mismatches);
    }

    /// <summary><see cref="Run"/>, then <see cref="ModuleGradCheckReport.ThrowIfFailed"/>.</summary>
    /// <returns>The report of a check that passed.</returns>
    /// <exception cref="GradCheckException">A mismatch: the message names the quantity, the element and both values.</exception>
    public static ModuleGradCheckReport Assert(GradCheckTarget target, IGradCheckReference? reference = null, ModuleGradCheckOptions? options = null)
    {
        var report = Run(target, reference, options);
        report.ThrowIfFailed();
        return report;
    }

    private static Tensor<double> Scaled(Tensor<double> t, double scale)
    {
        var v = t.ToArray();
        for (int i = 0; i < v.Length; i++) v[i] *= scale;
        return Tensor.FromArray(v, t.Shape.ToArray());
    }

    /// <summary>Central differences of <paramref name="loss"/> in every element of <paramref name="t"/>, which is restored.</summary>
    private static double[] FiniteDifferences(Tensor<double> t, Func<double> loss, double eps)
    {
        var values = t.ToArray();
        var d = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            values[i] = v + eps;
            t.CopyFrom(values);
            double plus = loss();
            values[i] = v - eps;
            t.CopyFrom(values);
            double minus = loss();
            values[i] = v;
            d[i] = (plus - minus) / (2 * eps);
        }
        t.CopyFrom(values);
        return d;
    }

    private static double[][] CheckReferenceShapes(ReferenceResult r, (string Name, Tensor<double> Parameter)[] parameters, Tensor<double> input,
        Tensor<double>[] state, int outputLength)
    {
        var list = new List<double[]>();
        void Add(double[]? values, int length, string what)
        {
            if (values is null || values.Length != length)
                throw new ArgumentException($"ModuleGradCheck: the reference returned {values?.Length.ToString(CultureInfo.InvariantCulture) ?? "nothing"} values for {what}, expected {length}.");
            list.Add(values);
        }
        if (r.Output is null || r.Output.Length != outputLength)
            throw new ArgumentException($"ModuleGradCheck: the reference's output has {r.Output?.Length ?? 0} values, ours {outputLength}.");
        foreach (var (name, p) in parameters)
            Add(r.ParameterGradients?.GetValueOrDefault(name), p.Length, $"parameter '{name}'");
        Add(r.InputGradient, input.Length, "the input");
        if (r.StateGradients is null || r.StateGradients.Count != state.Length)
            throw new ArgumentException($"ModuleGradCheck: the reference returned {r.StateGradients?.Count ?? 0} state gradients, expected {state.Length}.");
        for (int i = 0; i < state.Length; i++) Add(r.StateGradients[i], state[i].Length, $"state {i}");
        return list.ToArray();
    }

    private static void Compare(Quantity q, GradCheckComparison comparison, double[] value, double[] expected, int[] shape, int batch, int time,
        double abs, double rel, List<GradCheckMismatch> mismatches)
    {
        var acc = q.Errors.TryGetValue(comparison, out var a) ? a : q.Errors[comparison] = new Accumulator();
        double floor = rel > 0 ? abs / rel : double.PositiveInfinity;
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < value.Length; i++)
        {
            double diff = Math.Abs(value[i] - expected[i]);
            if (double.IsNaN(diff)) diff = double.PositiveInfinity;
            double relative = diff / Math.Max(Math.Abs(expected[i]), floor);
            acc.MaxAbsolute = Math.Max(acc.MaxAbsolute, diff);
            acc.MaxRelative = Math.Max(acc.MaxRelative, double.IsNaN(relative) ? double.PositiveInfinity : relative);
            double excess = diff - (abs + rel * Math.Abs(expected[i]));
            if (excess > 0)
            {
                acc.Failures++;
                if (worst < 0 || excess > worstExcess) { worst = i; worstExcess = excess; }
            }
        }
        if (worst >= 0)
            mismatches.Add(new GradCheckMismatch(q.Name, comparison, batch, time, Unflatten(worst, shape), value[worst], expected[worst]));
    }

    private static int[] Unflatten(int flat, int[] shape)
    {
        var idx = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int s = Math.Max(shape[d], 1);
            idx[d] = flat % s;
            flat /= s;
        }
        return idx;
    }

    private sealed class Quantity(string name, string shape)
    {
        public string Name => name;
        public string Shape => shape;
        public Dictionary<GradCheckComparison, Accumulator> Errors { get; } = [];
    }

    private sealed class Accumulator
    {
        public double MaxAbsolute, MaxRelative;
        public int Failures;

        public GradCheckError ToError() => new(MaxAbsolute, MaxRelative, Failures);
    }
}
