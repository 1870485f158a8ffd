using System.CommandLine;
using System.Globalization;
using Autograd.CharLm;
using Autograd.Nn;
using Autograd.Nn.Testing;

namespace Autograd.Cli;

/// <summary>
/// <c>autograd gradcheck</c>: runs the public gradient-check harness (<see cref="ModuleGradCheck"/>) on one
/// of our layers against finite differences and the hand-derived reference, and prints the table.
/// </summary>
internal static class GradCheckCommand
{
    public static Command Create()
    {
        var cell = new Option<string>("--cell") { Description = "Recurrent cell.", DefaultValueFactory = _ => "lstm" };
        cell.AcceptOnlyFromAmong("rnn", "gru", "lstm");
        var resetAfter = new Option<bool>("--gru-reset-after") { Description = "GRU only: the reset-after form (PyTorch/cuDNN) instead of the seed's reset-before." };
        var inputSize = CliApp.PositiveInt("--input-size", "Input features F.", 3);
        var hidden = CliApp.PositiveInt("--hidden", "Hidden units H.", 4);
        var outputSize = CliApp.PositiveInt("--output-size", "Output size O of the layer's projection.", 3);
        var batch = CliApp.PositiveInt("--batch", "Largest batch checked (shapes: batch 1 time 1, batch 1 time --time, --batch × --time).", 3);
        var time = CliApp.PositiveInt("--time", "Time steps of the longer shapes.", 5);
        var seed = new Option<int>("--seed") { Description = "Seeds the parameters, input, initial state and loss weights.", DefaultValueFactory = _ => 0 };
        var command = new Command("gradcheck", "Check a layer's autodiff gradients against finite differences and the hand-derived reference (every parameter, the input and the carried state) and print the per-parameter errors. Exits non-zero on a mismatch.")
        {
            cell, resetAfter, inputSize, hidden, outputSize, batch, time, seed,
        };
        command.SetAction(parse =>
        {
            CharModelConfig.TryParseCell(parse.GetValue(cell), out var kind);
            var recurrentCell = RecurrentCell.Get(kind);
            bool ra = parse.GetValue(resetAfter);
            // A cell with no alternative forms describes none: the flag would do nothing.
            if (ra && recurrentCell.DescribeOptions(RecurrentOptions.Default).Length == 0)
                throw new CliError($"--gru-reset-after applies only to --cell gru, not {recurrentCell.Name}.");
            int f = parse.GetValue(inputSize), h = parse.GetValue(hidden), o = parse.GetValue(outputSize);
            int b = parse.GetValue(batch), t = parse.GetValue(time), s = parse.GetValue(seed);

            var options = new RecurrentOptions { Seed = s, GruResetAfter = ra };
            var layer = recurrentCell.CreateLayer<double>(h, o, options);
            var target = GradCheckTarget.FromLayer(layer, f);
            // Weights of N(0, 0.5²), biases too: every gate well away from linear, none saturated.
            var rng = new Random(s);
            foreach (var p in layer.Parameters())
                p.CopyFrom(Tensor.Randn<double>(rng, p.Shape.ToArray()).ToArray().Select(v => 0.5 * v).ToArray());

            (int, int)[] shapes = [.. new[] { (1, 1), (1, t), (b, t) }.Distinct()];
            var report = ModuleGradCheck.Run(target, SeedReferenceCell.For(layer), new ModuleGradCheckOptions { Shapes = shapes, Seed = s });
            var inv = CultureInfo.InvariantCulture;
            var opt = report.Options;
            Console.WriteLine(string.Create(inv, $"gradcheck {report.Target}: F {f}, H {h}, O {o}; (batch, time) {string.Join(" ", shapes.Select(x => $"({x.Item1}, {x.Item2})"))}; seed {s}"));
            Console.WriteLine(string.Create(inv, $"finite differences: central, step {opt.FiniteDifferenceStep:G3}, tolerance {opt.FiniteDifferenceAbsoluteTolerance:G3} + {opt.FiniteDifferenceRelativeTolerance:G3}·|fd|; reference: hand-derived nodes, tolerance {opt.ReferenceAbsoluteTolerance:G3} + {opt.ReferenceRelativeTolerance:G3}·|ref|"));
            Console.WriteLine(report.ToTable());
            if (!report.Passed)
            {
                try { report.ThrowIfFailed(); }
                catch (GradCheckException e) { throw new CliError(e.Message); }
            }
            Console.WriteLine("gradcheck: passed");
            return ExitCodes.Success;
        });
        return command;
    }
}
