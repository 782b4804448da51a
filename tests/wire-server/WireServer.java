import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * Test and development MongoDB: mongo-java-server with its oplog on, so change streams and
 * resume tokens work. Run as a single-file program: java -cp 'target/lib/*' WireServer.java [port] [host].
 * Prints "READY host:port" once it accepts connections, and exits when its standard input
 * closes, so a parent that dies (even by SIGKILL) never leaves it behind.
 */
public class WireServer {
    /** mongoose 9's driver refuses wire versions below 9; 6.0 / wire 17 is what it was checked with. */
    enum Mongo60 implements MongoVersion {
        INSTANCE;
        public List<Integer> getVersionArray() { return List.of(6, 0, 0); }
        public int getWireVersion() { return 17; }
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        String host = args.length > 1 ? args[1] : "127.0.0.1";
        MemoryBackend backend = new MemoryBackend();
        backend.version(Mongo60.INSTANCE);
        MongoServer server = new MongoServer(backend);
        server.enableOplog();
        server.bind(host, port);
        InetSocketAddress address = server.getLocalAddress();
        System.out.println("READY " + address.getHostString() + ":" + address.getPort());
        System.out.flush();

        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
        while (System.in.read() != -1) {
            // Input is ignored; only its end matters.
        }
        System.exit(0);
    }
}
