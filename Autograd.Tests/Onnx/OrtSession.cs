using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace Autograd.Tests.Onnx;

/// <summary>A single-threaded ONNX Runtime session over an in-memory model, fed and read by name.</summary>
internal sealed class OrtSession : IDisposable
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;

    public OrtSession(byte[] model)
    {
        // One thread: the machine is shared and results stay reproducible.
        _options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        _session = new InferenceSession(model, _options);
    }

    public OrtSession(IMessage model) : this(model.ToByteArray()) { }

    public InferenceSession Session => _session;

    /// <summary>Runs with float, int64 and int32 inputs; returns every graph output as a flat float array.</summary>
    public Dictionary<string, float[]> Run(params (string Name, Array Data, long[] Shape)[] inputs)
    {
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, data, shape) in inputs)
            {
                values.Add(data switch
                {
                    float[] f => OrtValue.CreateTensorValueFromMemory(f, shape),
                    long[] l => OrtValue.CreateTensorValueFromMemory(l, shape),
                    int[] i => OrtValue.CreateTensorValueFromMemory(i, shape),
                    _ => throw new ArgumentException($"OrtSession.Run: unsupported input type {data.GetType().Name}."),
                });
            }
            var outputNames = _session.OutputNames;
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, outputNames);
            var result = new Dictionary<string, float[]>();
            int k = 0;
            foreach (var output in outputs) result[outputNames[k++]] = output.GetTensorDataAsSpan<float>().ToArray();
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
    }
}
