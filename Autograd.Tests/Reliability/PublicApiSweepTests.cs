using System.Collections;
using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using Autograd.CharLm;
using Autograd.Nn;
using Autograd.Nn.Reference;
using Autograd.Nn.Serialization;
using Autograd.Nn.Testing;
using Autograd.Onnx;

namespace Autograd.Tests.Reliability;

/// <summary>
/// Issue 13, class 9: reflection over the public API of every package. Each public constructor, method,
/// operator and property setter is called once per probe, the other arguments valid:
/// null in each reference parameter (a non-nullable one must raise <see cref="ArgumentNullException"/>
/// naming it); a collection holding a null (<see cref="ArgumentException"/> naming the parameter and the
/// index or key); NaN and +∞ in each floating-point parameter; -1 and the minimum in each integer one;
/// and option records (<c>AdamOptions</c>, <c>TrainingOptions</c>, ...) with NaN, null or -1 in one property.
/// Whatever else they throw, no <see cref="NullReferenceException"/>, <see cref="IndexOutOfRangeException"/>
/// or <see cref="OverflowException"/> may escape.
/// </summary>
public class PublicApiSweepTests
{
    private static readonly Assembly[] Packages =
        [typeof(Tensor).Assembly, typeof(Module<>).Assembly, typeof(CharLanguageModel).Assembly, typeof(OnnxExporter).Assembly];

    private static readonly Type[] Forbidden = [typeof(NullReferenceException), typeof(IndexOutOfRangeException), typeof(OverflowException)];

    public static IEnumerable<TestCaseData> PublicTypes()
        => Packages.SelectMany(a => a.GetExportedTypes())
                   .Where(t => !t.IsInterface && !t.IsEnum && !typeof(Delegate).IsAssignableFrom(t))
                   .OrderBy(t => t.FullName, StringComparer.Ordinal)
                   .Select(t => new TestCaseData(t).SetArgDisplayNames(t.FullName!.Replace("`1", "<T>")));

    [TestCaseSource(nameof(PublicTypes))]
    public void BadArguments_AreRefusedClearly(Type type)
    {
        var closed = type.IsGenericTypeDefinition ? type.MakeGenericType(typeof(float)) : type;
        var failures = new List<string>();
        int probes = 0;
        using var samples = new Samples();
        foreach (var member in Members(closed))
        {
            if (!Invokable(member))
            {
                TestContext.Out.WriteLine($"not probed (span or ref parameter): {Describe(member)}");
                continue;
            }
            foreach (var probe in Probes(member, samples))
            {
                // Fresh instances per probe: a probe that half-succeeds must not change the next one's target.
                var targets = member.IsStatic || member is ConstructorInfo ? [null] : samples.Instances(member.DeclaringType!);
                foreach (var target in targets)
                {
                    probes++;
                    if (Run(member, probe, target, targets.Count > 1) is { } failure) failures.Add(failure);
                }
            }
        }
        TestContext.Out.WriteLine($"{probes} probes");
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
    }

    /// <summary>The sweep reaches the members the issue names, so an empty failure list means something.</summary>
    [Test]
    public void Sweep_CoversTheNamedEntryPoints()
    {
        var names = PublicTypes().Select(c => (Type)c.Arguments[0]!)
            .SelectMany(t => Members(t.IsGenericTypeDefinition ? t.MakeGenericType(typeof(float)) : t).Select(m => $"{t.Name}.{m.Name}"))
            .ToHashSet();
        Assert.That(names, Is.SupersetOf(new[]
        {
            "GradClip.ClipNorm", "GradClip.ClipValue", "Module`1.LoadStateDict", "Optimizer`1.LoadStateDict", "Adam`1..ctor", "Sgd`1..ctor",
            "Tensor.Concat", "Tensor.Stack", "Tensor.FromArray", "Tensor`1.op_Addition", "Tensor`1.MatMul", "Tensor`1.Slice", "Tensor`1.Pow",
            "GradCheck.Assert", "Init.Normal", "Losses.CrossEntropy", "Checkpoint.Save", "Checkpoint.Load", "Sampler.Sample",
            "Vocabulary.Encode", "CharTrainer..ctor", "OnnxExporter.Export", "SafeTensorsWriter.Add", "AtomicFile.Write",
        }));
    }

    /// <summary>
    /// The span-taking members reflection cannot call, by hand: null in each non-nullable reference parameter.
    /// The table must name every such member of the packages, so a new one is not skipped silently.
    /// </summary>
    [Test]
    public void SpanTakingMembers_RefuseNullReferenceArguments()
    {
        var layer = new ReferenceLayer<float>(ReferenceCellKind.Lstm, 2, 2, 2);
        var model = new ReferenceModel<float>(layer);
        using var ms = new MemoryStream();
        new SafeTensorsWriter().Add("w", Tensor.Ones<float>(2, 2)).WriteTo(ms);
        var file = SafeTensorsFile.Parse(ms.ToArray());
        var values = new float[4];
        (string Member, string Parameter, Action Call)[] cases =
        [
            ("TextCorpus.Decode", "source", () => TextCorpus.Decode("abc"u8, null!)),
            ("SafeTensorsFile.GetBytes", "name", () => _ = file.GetBytes(null!)),
            ("ReferenceModel`1.SetValue", "key", () => model.SetValue(null!, values)),
            ("ReferenceParameters`1.SetValue", "name", () => layer.Parameters.SetValue(null!, values)),
            ("Tensor.FromSpan", "shape", () => Tensor.FromSpan<float>(values, null!)),
        ];
        foreach (var (member, parameter, call) in cases)
        {
            var e = Assert.Throws<ArgumentNullException>(call, member)!;
            Assert.That(e.ParamName, Is.EqualTo(parameter), member);
        }
        var nullability = new NullabilityInfoContext();
        var uncallable = PublicTypes().Select(c => (Type)c.Arguments[0]!)
            .SelectMany(t => Members(t.IsGenericTypeDefinition ? t.MakeGenericType(typeof(float)) : t).Select(m => (t, m)))
            .Where(x => !Invokable(x.m) && x.m.GetParameters().Any(p => !p.ParameterType.IsValueType && nullability.Create(p).WriteState == NullabilityState.NotNull))
            .Select(x => $"{x.t.Name}.{x.m.Name}")
            .Distinct();
        Assert.That(cases.Select(c => c.Member), Is.EquivalentTo(uncallable));
    }

    /// <summary>Whether reflection can call <paramref name="member"/>: no span or ref parameter, no span result.</summary>
    private static bool Invokable(MethodBase member)
        => !member.GetParameters().Any(p => p.ParameterType.IsByRefLike || (p.ParameterType.IsByRef && !p.IsOut))
           && member is not MethodInfo { ReturnType.IsByRefLike: true };

    /// <summary>Public constructors, methods (operators, accessors included) declared by the packages' types.</summary>
    private static IEnumerable<MethodBase> Members(Type type)
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        IEnumerable<MethodBase> ctors = type.IsAbstract ? [] : type.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        var methods = type.GetMethods(flags)
            .Where(m => !m.Name.StartsWith('<'))
            .Select(m => m.IsGenericMethodDefinition ? m.MakeGenericMethod(m.GetGenericArguments().Select(_ => typeof(float)).ToArray()) : m);
        return ctors.Concat(methods).OrderBy(Describe, StringComparer.Ordinal);
    }

    private sealed record Probe(string Label, object?[] Arguments, Func<Exception?, string?> Judge);

    private static IEnumerable<Probe> Probes(MethodBase member, Samples samples)
    {
        var ps = member.GetParameters();
        var nullability = new NullabilityInfoContext();
        // Strict null checks everywhere but where .NET does not validate: exception messages, and the data
        // members of records (positional constructors, property setters); consumers of a record must still
        // refuse its null, NaN or negative properties cleanly (the record variants below).
        bool lenient = typeof(Exception).IsAssignableFrom(member.DeclaringType)
            || (IsRecord(member.DeclaringType!) && (member is ConstructorInfo || member.IsSpecialName));
        for (int i = 0; i < ps.Length; i++)
        {
            var p = ps[i];
            if (p.IsOut) continue;
            var t = p.ParameterType;
            var info = nullability.Create(p);
            if (!t.IsValueType)
            {
                bool required = info.WriteState == NullabilityState.NotNull && !lenient;
                yield return new Probe($"null {p.Name}", With(i, null), e => required ? ExpectNull(e, p.Name!) : null);
                if (ElementProbe(t, info, samples) is { } bad)
                    yield return new Probe($"null element in {p.Name}", With(i, bad.Value), e => lenient ? null : ExpectElement(e, p.Name!, bad.Mention));
                foreach (var (label, variant) in RecordVariants(t, samples))
                    yield return new Probe($"{p.Name} {label}", With(i, variant), _ => null);
            }
            var u = Nullable.GetUnderlyingType(t) ?? t;
            if (u == typeof(float)) { yield return new($"NaN {p.Name}", With(i, float.NaN), _ => null); yield return new($"∞ {p.Name}", With(i, float.PositiveInfinity), _ => null); }
            if (u == typeof(double)) { yield return new($"NaN {p.Name}", With(i, double.NaN), _ => null); yield return new($"∞ {p.Name}", With(i, double.PositiveInfinity), _ => null); }
            if (u == typeof(int)) { yield return new($"-1 {p.Name}", With(i, -1), _ => null); yield return new($"min {p.Name}", With(i, int.MinValue), _ => null); }
            if (u == typeof(long)) { yield return new($"-1 {p.Name}", With(i, -1L), _ => null); yield return new($"min {p.Name}", With(i, long.MinValue), _ => null); }
        }

        object?[] With(int index, object? value)
        {
            var args = ps.Select(p => p.IsOut ? null : samples.For(p.ParameterType, p.Name, p.HasDefaultValue ? p.DefaultValue : null)).ToArray();
            args[index] = value;
            return args;
        }
    }

    private static bool IsRecord(Type t) => t.GetMethod("<Clone>$") is not null || (t.IsValueType && t.GetMethod("PrintMembers", BindingFlags.NonPublic | BindingFlags.Instance) is not null);

    private static string? ExpectNull(Exception? e, string name)
        => e is ArgumentNullException an && an.ParamName == name ? null : $"expected ArgumentNullException({name}), got {Show(e)}";

    private static string? ExpectElement(Exception? e, string name, string mention)
        => e is ArgumentException ae && ae.ParamName == name && ae.Message.Contains(mention, StringComparison.Ordinal)
            ? null
            : $"expected ArgumentException({name}) mentioning {mention}, got {Show(e)}";

    private static string Show(Exception? e) => e is null ? "no exception" : $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";

    /// <summary>A collection of the parameter's type holding a valid element and then a null (or a dictionary with a null value).</summary>
    private static (object Value, string Mention)? ElementProbe(Type t, NullabilityInfo info, Samples samples)
    {
        if (t == typeof(string)) return null;
        if (t.IsArray && !t.GetElementType()!.IsValueType && info.ElementType?.ReadState == NullabilityState.NotNull)
        {
            var a = Array.CreateInstance(t.GetElementType()!, 2);
            a.SetValue(samples.For(t.GetElementType()!, null), 0);
            return (a, "[1]");
        }
        if (!t.IsGenericType) return null;
        var args = t.GetGenericArguments();
        var def = t.GetGenericTypeDefinition();
        if (args.Length == 1 && !args[0].IsValueType && info.GenericTypeArguments[0].ReadState == NullabilityState.NotNull
            && (def == typeof(IEnumerable<>) || def == typeof(IReadOnlyList<>) || def == typeof(IReadOnlyCollection<>) || def == typeof(IList<>)))
        {
            var a = Array.CreateInstance(args[0], 2);
            a.SetValue(samples.For(args[0], null), 0);
            return (a, "[1]");
        }
        if (args.Length == 2 && args[0] == typeof(string) && !args[1].IsValueType && info.GenericTypeArguments[1].ReadState == NullabilityState.NotNull
            && (def == typeof(IReadOnlyDictionary<,>) || def == typeof(IDictionary<,>) || def == typeof(Dictionary<,>)))
        {
            var d = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
            d.Add("nullEntry", null);
            return (d, "'nullEntry'");
        }
        return null;
    }

    /// <summary>Copies of an options record from the packages with one property set to NaN, ∞, null or -1.</summary>
    private static IEnumerable<(string Label, object Value)> RecordVariants(Type t, Samples samples)
    {
        if (!Packages.Contains(t.Assembly) || t.GetMethod("<Clone>$") is not { } clone) yield break;
        var nullability = new NullabilityInfoContext();
        foreach (var prop in t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.SetMethod!.IsPublic))
        {
            var pt = Nullable.GetUnderlyingType(prop.PropertyType) ?? prop.PropertyType;
            object?[] bad = pt == typeof(double) ? [double.NaN, double.PositiveInfinity]
                : pt == typeof(float) ? [float.NaN, float.PositiveInfinity]
                : pt == typeof(int) ? [-1]
                : pt == typeof(long) ? [-1L]
                : !pt.IsValueType && nullability.Create(prop).WriteState == NullabilityState.NotNull ? [null]
                : [];
            foreach (var v in bad)
            {
                if (samples.For(t, null) is not { } original) yield break;
                var copy = clone.Invoke(original, null)!;
                prop.SetValue(copy, v);
                yield return ($"{{ {prop.Name} = {v ?? "null"} }}", copy);
            }
        }
    }

    /// <summary>Runs one probe (on a thread-pool thread, with a time limit) on <paramref name="target"/> and returns a failure line, or null.</summary>
    /// <param name="member">The member.</param>
    /// <param name="probe">The arguments and the judge.</param>
    /// <param name="target">The instance for an instance member, else null.</param>
    /// <param name="nameTarget">Whether the failure line names the target (one of several instances).</param>
    private static string? Run(MethodBase member, Probe probe, object? target, bool nameTarget)
    {
        Exception? thrown = null;
        var call = Task.Run(() =>
        {
            try
            {
                if (!member.IsStatic && member is not ConstructorInfo && target is null)
                    throw new InvalidOperationException($"no sample instance of {member.DeclaringType}");
                var result = member is ConstructorInfo c ? c.Invoke(probe.Arguments) : member.Invoke(target, probe.Arguments);
                Consume(result);
            }
            catch (TargetInvocationException e) { thrown = e.InnerException; }
            catch (Exception e) { thrown = e; }
        });
        var where = nameTarget ? $"{Describe(member)} on '{target}'" : Describe(member);
        if (!call.Wait(TimeSpan.FromSeconds(30))) return $"{where} probe: {probe.Label}: did not return within 30 s";
        if (thrown is InvalidOperationException { Message: var msg } && msg.StartsWith("no sample", StringComparison.Ordinal))
            return $"{where}: {msg}";
        if (thrown is not null && Forbidden.Any(f => f.IsInstanceOfType(thrown)))
            return $"{where} probe: {probe.Label}: {thrown.GetType().Name} escaped: {thrown.Message}\n{thrown.StackTrace?.Split('\n').FirstOrDefault()}";
        return probe.Judge(thrown) is { } why ? $"{where} probe: {probe.Label}: {why}" : null;
    }

    /// <summary>Runs lazy results (iterators validate when enumerated) and disposes scopes.</summary>
    private static void Consume(object? result)
    {
        if (result is IEnumerable e and not string)
            foreach (var _ in e.Cast<object?>().Take(1000)) { }
        (result as IDisposable)?.Dispose();
    }

    private static string Describe(MethodBase m)
        => $"{m.DeclaringType!.Name.Replace("`1", "<T>")}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    /// <summary>Fresh, small, valid arguments and instances, by type (and parameter name where it matters).</summary>
    private sealed class Samples : IDisposable
    {
        private readonly string _dir = Directory.CreateTempSubdirectory("autograd-sweep-").FullName;

        public void Dispose() => Directory.Delete(_dir, recursive: true);

        /// <summary>
        /// The instances to call an instance member of <paramref name="t"/> on: every registered cell for
        /// <see cref="RecurrentCell"/> (each overrides its members), else one fresh sample (null when there is none).
        /// </summary>
        public IReadOnlyList<object?> Instances(Type t) => t == typeof(RecurrentCell) ? [.. RecurrentCell.All] : [For(t, null)];

        public object? For(Type t, string? name, object? preferred = null)
        {
            if (t.IsByRef) t = t.GetElementType()!;
            if (preferred is not null) return t.IsEnum ? Enum.ToObject(t, preferred) : preferred;
            var n = name?.ToLowerInvariant() ?? "";
            if (Nullable.GetUnderlyingType(t) is { } inner) return For(inner, name);
            if (t == typeof(bool)) return false;
            if (t == typeof(int)) return n.Contains("vocab") ? 3 : n is "inputsize" or "hiddensize" or "outputsize" or "sequencelength" or "chunklength" or "n" ? 2 : 1;
            if (t == typeof(long)) return 1L;
            if (t == typeof(float)) return 0.5f;
            if (t == typeof(double)) return 0.5;
            if (t == typeof(string))
                return n.Contains("path") ? Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".bin") : n is "text" or "symbols" ? "abcab" : "a";
            if (t == typeof(Random)) return new Random(1);
            if (t == typeof(Stream)) return new MemoryStream();
            if (t == typeof(CancellationToken)) return CancellationToken.None;
            if (t == typeof(TimeSpan)) return TimeSpan.FromSeconds(1);
            if (t == typeof(Rune)) return new Rune('a');
            if (t.IsEnum) return Enum.GetValues(t).GetValue(0);
            if (t == typeof(object)) return "a";
            if (t.IsArray)
            {
                var e = t.GetElementType()!;
                if (e == typeof(int)) return new[] { 2, 2 };
                if (e == typeof(long)) return new[] { 2L, 2L };
                if (e == typeof(float)) return new float[4];
                if (e == typeof(double)) return new double[4];
                var a = Array.CreateInstance(e, 2);
                a.SetValue(For(e, null), 0);
                a.SetValue(For(e, null), 1);
                return a;
            }
            if (typeof(Delegate).IsAssignableFrom(t)) return Delegate(t);
            if (t.IsGenericType && t.Name.StartsWith("ValueTuple", StringComparison.Ordinal))
                return Activator.CreateInstance(t, t.GetGenericArguments().Select(a => For(a, null)).ToArray());
            if (t.IsGenericType)
            {
                var def = t.GetGenericTypeDefinition();
                var args = t.GetGenericArguments();
                if (def == typeof(IEnumerable<>) || def == typeof(IReadOnlyList<>) || def == typeof(IReadOnlyCollection<>) || def == typeof(IList<>))
                    return For(args[0].MakeArrayType(), name);
                if (def == typeof(IReadOnlyDictionary<,>) || def == typeof(IDictionary<,>))
                    return Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args));
                if (def == typeof(Tensor<>)) return args[0] == typeof(double) ? Tensor.Ones<double>(2, 2) : Tensor.Ones<float>(2, 2);
            }
            return Known(t) ?? ViaConstructor(t);
        }

        private object? Known(Type t)
        {
            if (t.IsGenericType && t.GetGenericArguments()[0] == typeof(double)) return KnownDouble(t);
            if (t.IsAssignableFrom(typeof(RnnModel<float>)) && t != typeof(object)) return Model();
            if (t.IsAssignableFrom(typeof(LstmLayer<float>))) return new LstmLayer<float>(2, 3);
            if (t == typeof(GruLayer<float>)) return new GruLayer<float>(2, 3);
            if (t == typeof(RnnLayer<float>)) return new RnnLayer<float>(2, 3);
            if (t == typeof(Linear<float>)) return new Linear<float>(2);
            if (t.IsAssignableFrom(typeof(Adam<float>))) return new Adam<float>([Param()], 0.1f);
            if (t == typeof(Sgd<float>)) return new Sgd<float>([Param()], 0.1f);
            if (t == typeof(RecurrentOptions)) return new RecurrentOptions();
            if (t == typeof(Autograd.Backends.Expr)) return Autograd.Backends.Expr.Input(0) * 2.0;
            if (t == typeof(PointwiseFunction)) return PointwiseFunction.Compile((a, b) => a * b);
            if (t == typeof(Autograd.Backends.Buffer<float>))
                return new Autograd.Backends.Buffer<float>(new Autograd.Backends.HostStorage<float>(Autograd.Backends.Backend.Cpu, new float[4]), 0, 4);
            if (t == typeof(Vocabulary)) return Vocabulary.FromText("abc");
            if (t == typeof(CharModelConfig)) return new CharModelConfig(CellKind.Lstm, HiddenSize: 4);
            if (t == typeof(CharLanguageModel)) return new CharLanguageModel(Vocabulary.FromText("abc"), new CharModelConfig(CellKind.Lstm, HiddenSize: 4), 1);
            if (t == typeof(TrainingOptions)) return SmallTraining;
            if (t == typeof(TrainingState)) return new TrainingState { Options = SmallTraining };
            if (t == typeof(SamplingOptions)) return new SamplingOptions { Length = 3 };
            if (t == typeof(SequenceBatcher)) return new SequenceBatcher([2, 1, 0, 1, 2], 1, 2);
            if (t == typeof(CharTrainer))
                return new CharTrainer((CharLanguageModel)Known(typeof(CharLanguageModel))!, Ids(20), Ids(8), SmallTraining);
            if (t == typeof(SafeTensorsWriter)) return new SafeTensorsWriter().Add("w", Tensor.Ones<float>(2, 2));
            if (t == typeof(SafeTensorsFile)) return SafeTensorsFile.Parse(SafeTensorBytes());
            if (t == typeof(SafeTensorInfo)) return SafeTensorsFile.Parse(SafeTensorBytes()).GetInfo("w");
            if (t == typeof(ModuleGradCheckOptions)) return new ModuleGradCheckOptions { Shapes = [(1, 1)] };
            if (t == typeof(ModuleGradCheckReport)) return ModuleGradCheck.Run(Target(), null, new ModuleGradCheckOptions { Shapes = [(1, 1)] });
            if (t == typeof(GradCheckTarget)) return Target();
            if (t.IsAssignableFrom(typeof(UnrolledReference))) return SeedReferenceCell.For((LstmLayer<double>)KnownDouble(typeof(LstmLayer<double>))!);
            if (t.IsAssignableFrom(typeof(SeedReferenceCell))) return new SeedReferenceCell(Autograd.Nn.Reference.ReferenceCellKind.Lstm, 2, 2, 2);
            return null;
        }

        private static object? KnownDouble(Type t)
        {
            if (t.IsAssignableFrom(typeof(LstmLayer<double>)))
            {
                var layer = new LstmLayer<double>(2, 2);
                layer.Build(2);
                return layer;
            }
            if (t == typeof(Tensor<double>)) return Tensor.Ones<double>(2, 2);
            return null;
        }

        private static TrainingOptions SmallTraining => new()
        {
            SequenceLength = 2, BatchSize = 1, MaxSteps = 1, EvaluationInterval = 1, EvaluationSymbols = 4,
        };

        private static int[] Ids(int n) => Enumerable.Range(0, n).Select(i => i % 3).ToArray();

        private static RnnModel<float> Model()
        {
            var m = new RnnModel<float>(new LstmLayer<float>(2, 3));
            m.Build(3);
            return m;
        }

        private static Tensor<float> Param()
        {
            var p = Tensor.Ones<float>(2, 2);
            p.RequiresGrad = true;
            p.Sum().Backward();
            return p;
        }

        private static GradCheckTarget Target() => GradCheckTarget.FromLayer(new LstmLayer<double>(2, 2), 2);

        private static byte[] SafeTensorBytes()
        {
            using var ms = new MemoryStream();
            new SafeTensorsWriter().Add("w", Tensor.Ones<float>(2, 2)).WriteTo(ms);
            return ms.ToArray();
        }

        /// <summary>A delegate returning its first argument when it can, else the return type's sample.</summary>
        private object Delegate(Type t)
        {
            var invoke = t.GetMethod("Invoke")!;
            var ps = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
            Expression body = invoke.ReturnType == typeof(void)
                ? Expression.Empty()
                : ps.FirstOrDefault(p => invoke.ReturnType.IsAssignableFrom(p.Type)) is { } same
                    ? same
                    : ps.Length > 0 && ps[0].Type.IsArray && invoke.ReturnType.IsAssignableFrom(ps[0].Type.GetElementType()!)
                        ? Expression.ArrayIndex(ps[0], Expression.Constant(0))
                        : Expression.Constant(For(invoke.ReturnType, null), invoke.ReturnType);
            return Expression.Lambda(t, body, ps).Compile();
        }

        /// <summary>The public constructor with the fewest parameters, called with samples.</summary>
        private object? ViaConstructor(Type t)
        {
            if (t.IsAbstract) return null;
            if (t.IsValueType && t.GetConstructors().Length == 0) return Activator.CreateInstance(t);
            var ctor = t.GetConstructors().OrderBy(c => c.GetParameters().Length).FirstOrDefault();
            if (ctor is null) return null;
            try
            {
                return ctor.Invoke(ctor.GetParameters().Select(p => For(p.ParameterType, p.Name, p.HasDefaultValue ? p.DefaultValue : null)).ToArray());
            }
            catch (TargetInvocationException)
            {
                return null;
            }
        }
    }
}
