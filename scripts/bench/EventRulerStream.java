import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import software.amazon.event.ruler.Machine;

/**
 * The EventBridge stand-in's rule matcher for scripts/bench/event-latency.ts: AWS's event-ruler (the
 * library EventBridge's pattern language comes from; the jars test/support/event-ruler.ts uses, in
 * .cache/event-ruler), kept running so matching an event costs what EventBridge's matcher costs, not a
 * JVM start. Run in source-file mode (`java -cp <jars> EventRulerStream.java`, JDK >= 11).
 *
 * stdin:  first line the rule's event pattern (JSON), then one event (JSON) per line
 * stdout: "ready" once the rule is loaded, then "true" or "false" per event, in order
 */
public final class EventRulerStream {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Machine machine = Machine.builder().build();
        machine.addRule("rule", in.readLine());
        System.out.println("ready");
        System.out.flush();
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            System.out.println(!machine.rulesForJSONEvent(line).isEmpty());
            System.out.flush();
        }
    }
}
