using System.Diagnostics;

namespace Autograd;

/// <summary>
/// Raised in anomaly-detection mode (<see cref="Tensor.DetectAnomaly"/>) when an op's output or a
/// gradient holds NaN or ±∞. The message names the op, the shapes and where the op was created.
/// </summary>
public sealed class AnomalyException : ArithmeticException
{
    /// <summary>With <paramref name="message"/>.</summary>
    /// <param name="message">What went wrong.</param>
    public AnomalyException(string message) : base(message) { }

    /// <summary>With the default message.</summary>
    public AnomalyException() { }

    /// <summary>With <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public AnomalyException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The op whose output or gradient was non-finite (e.g. "Log").</summary>
    public string? Op { get; init; }

    /// <summary>The first caller frame outside the engine when the op was recorded ("file:line" or a method name).</summary>
    public string? CreationSite { get; init; }
}

/// <summary>Anomaly detection, scoped like <see cref="Tensor.NoGrad"/> (like <c>torch.autograd.detect_anomaly</c>).</summary>
internal static class Anomaly
{
    private enum AnomalyTag { }

    public static bool Enabled => FlowScope<AnomalyTag>.Active;

    public static IDisposable Enable() => FlowScope<AnomalyTag>.Enter("DetectAnomaly");

    /// <summary>The first stack frame outside this assembly: where user code created the op.</summary>
    public static string CaptureSite()
    {
        var own = typeof(Anomaly).Assembly;
        var trace = new StackTrace(2, fNeedFileInfo: true);
        foreach (var frame in trace.GetFrames())
        {
            var method = frame.GetMethod();
            if (method?.DeclaringType?.Assembly == own) continue;
            string name = method is null ? "?" : $"{method.DeclaringType?.FullName}.{method.Name}";
            return frame.GetFileName() is { } file ? $"{name} at {file}:{frame.GetFileLineNumber()}" : name;
        }
        return "unknown";
    }
}
