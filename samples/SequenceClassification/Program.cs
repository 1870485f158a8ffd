// Many-to-one sequence classification (the seed's sentiment-style task, Deep Learning from
// Scratch ch. 6): a GRU reads 15 one-hot symbols from {0, 1, 2} and says which symbol occurs most
// often. Only the last time step's logits are scored (Losses.CrossEntropyLastStep); chance is 1/3.
//
//     dotnet run -c Release -- --steps 300
using Autograd;
using Autograd.Nn;

const int Classes = 3, Time = 15, Batch = 32;
int steps = 300;
if (args.Length == 2 && args[0] == "--steps" && int.TryParse(args[1], out int n) && n > 0) steps = n;
else if (args.Length != 0) { Console.Error.WriteLine("usage: SequenceClassification [--steps N]"); return 2; }

var random = new Random(1);
var model = new RnnModel<float>(new GruLayer<float>(hiddenSize: 32, outputSize: Classes,
    new RecurrentOptions { Carry = CarryMode.None, Init = InitScheme.XavierOrthogonal, Seed = 1 }));
var (validationX, validationLabels) = Sequences(random, 512);
model.Build(inputSize: Classes);
var optimizer = new Adam<float>(model.Parameters(), 1e-2f);

Console.WriteLine($"step 0: validation accuracy {Accuracy():P1}");
for (int step = 1; step <= steps; step++)
{
    var (x, labels) = Sequences(random, Batch);
    var logits = model.Forward(x);                                // (batch, time, classes)
    var loss = Losses.CrossEntropyLastStep(logits, labels);      // one label per sequence
    optimizer.ZeroGrad();
    loss.Backward();
    GradClip.ClipNorm(model.Parameters(), 5f);
    optimizer.Step();
    if (step % Math.Max(1, steps / 10) == 0 || step == steps)
        Console.WriteLine($"step {step}: loss {loss.Item():F4}, validation accuracy {Accuracy():P1}");
}
return float.IsFinite(Losses.CrossEntropyLastStep(model.Forward(validationX), validationLabels).Item()) ? 0 : 1;

// The share of validation sequences whose last-step argmax is the majority symbol.
double Accuracy()
{
    float[] logits;
    using (Tensor.NoGrad()) logits = model.Forward(validationX).ToArray();
    int correct = 0;
    for (int b = 0; b < validationLabels.Length; b++)
    {
        var last = logits.AsSpan((b * Time + Time - 1) * Classes, Classes);
        int best = 0;
        for (int k = 1; k < Classes; k++) if (last[k] > last[best]) best = k;
        if (best == validationLabels[b]) correct++;
    }
    return (double)correct / validationLabels.Length;
}

// x: (count, Time, Classes) one-hot symbols; labels: the most frequent symbol of each sequence (a
// 15-symbol sequence over 3 symbols can still tie, so ties are drawn again).
static (Tensor<float> X, int[] Labels) Sequences(Random random, int count)
{
    var x = new float[count * Time * Classes];
    var labels = new int[count];
    var counts = new int[Classes];
    for (int b = 0; b < count; b++)
    {
        int[] symbols;
        do
        {
            symbols = Enumerable.Range(0, Time).Select(_ => random.Next(Classes)).ToArray();
            Array.Clear(counts);
            foreach (int s in symbols) counts[s]++;
        } while (counts.Count(c => c == counts.Max()) > 1);
        labels[b] = Array.IndexOf(counts, counts.Max());
        for (int t = 0; t < Time; t++) x[(b * Time + t) * Classes + symbols[t]] = 1;
    }
    return (Tensor.FromArray(x, count, Time, Classes), labels);
}
