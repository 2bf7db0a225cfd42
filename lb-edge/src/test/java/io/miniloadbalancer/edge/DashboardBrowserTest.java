package io.miniloadbalancer.edge;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.miniloadbalancer.edge.config.ConfigFiles;
import io.miniloadbalancer.edge.http.Json;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real headless Chromium (Debian's {@code chromium} and {@code chromedriver},
 * which {@code .ci/run} installs) against a real edge proxy in demo mode: three demo backends on
 * loopback, health-checked, admin token set so the browser has to log in.
 *
 * <p>Runs with surefire in every {@code mvn verify}. When Chromium or chromedriver is missing it
 * fails and says how to install them: a silently skipped browser test would look like a pass.
 * Selenium Manager never runs (both paths are given), so nothing is downloaded.
 */
class DashboardBrowserTest {

  private static final String TOKEN = "dashboard-test-token";
  private static final Path CHROMIUM =
      Path.of(System.getProperty("chromium.binary", "/usr/bin/chromium"));
  private static final Path CHROMEDRIVER =
      Path.of(System.getProperty("chromedriver.binary", "/usr/bin/chromedriver"));

  /** Polls are 1 s apart; 10 s covers a slow shared CI machine many times over. */
  private static final Duration UI_WAIT = Duration.ofSeconds(10);

  /**
   * Health checks need 3 failed probes 2 s apart to mark a backend down; twice that, plus polls.
   */
  private static final Duration PANIC_WAIT = Duration.ofSeconds(20);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private DemoBackends backends;
  private EdgeProxy edge;
  private Path profile;
  private ChromeDriverService service;
  private WebDriver driver;
  private WebDriverWait wait;

  @BeforeEach
  void start() throws Exception {
    assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
        .as(
            "the dashboard test needs Chromium at %s and chromedriver at %s: install"
                + " them with `apt-get install -y chromium chromium-driver` (.ci/run"
                + " does), or point -Dchromium.binary / -Dchromedriver.binary at them",
            CHROMIUM, CHROMEDRIVER)
        .isTrue();
    backends = new DemoBackends(3);
    edge =
        EdgeProxy.start(
            ConfigFiles.parse(
                backends.config(0, 0), "demo config", Map.of("EDGE_ADMIN_TOKEN", TOKEN)),
            EnvironmentInfo.none());

    profile = Files.createTempDirectory("dashboard-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox", // the test runs as root in CI, where Chromium's sandbox cannot
        // start
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--user-data-dir=" + profile,
        "--window-size=1366,900");
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
    service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(CHROMEDRIVER.toFile())
            .usingAnyFreePort()
            .build();
    driver = new ChromeDriver(service, options);
    wait = new WebDriverWait(driver, UI_WAIT);
  }

  @AfterEach
  void stop() throws IOException {
    if (driver != null) {
      // For whoever reads a failure: what the page showed and what its console said last.
      Files.createDirectories(Path.of("target"));
      Files.writeString(Path.of("target/dashboard-last-page.html"), driver.getPageSource());
      StringBuilder console = new StringBuilder();
      driver.manage().logs().get(LogType.BROWSER).forEach(e -> console.append(e).append('\n'));
      Files.writeString(Path.of("target/dashboard-last-console.log"), console);
      driver.quit();
    }
    if (service != null) {
      service.stop();
    }
    if (edge != null) {
      edge.close();
    }
    if (backends != null) {
      backends.close();
    }
    if (profile != null) {
      try (var files = Files.walk(profile)) {
        files.sorted(java.util.Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
      }
    }
  }

  private String ui(String path) {
    return "http://127.0.0.1:" + edge.adminPort() + path;
  }

  private JsonNode adminJson(String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(ui(path)))
                .header("Authorization", "Bearer " + TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET " + path).isEqualTo(200);
    return Json.MAPPER.readTree(r.body());
  }

  private WebElement row(String endpoint) {
    return driver.findElement(By.cssSelector("tr[data-endpoint='" + endpoint + "']"));
  }

  private String stateOf(String endpoint) {
    return row(endpoint).findElement(By.cssSelector(".state")).getText();
  }

  /** Console entries at SEVERE since the last call (reading the log empties it). */
  private List<String> severeConsoleEntries() {
    List<String> out = new ArrayList<>();
    for (LogEntry e : driver.manage().logs().get(LogType.BROWSER)) {
      if (e.getLevel().intValue() >= Level.SEVERE.intValue()) {
        out.add(e.getMessage());
      }
    }
    return out;
  }

  private void logIn() {
    driver.get(ui("/admin/ui"));
    wait.until(ExpectedConditions.urlToBe(ui("/admin/ui/login")));
    driver.findElement(By.id("token")).sendKeys(TOKEN);
    driver.findElement(By.cssSelector("#login-form button[type=submit]")).click();
    wait.until(ExpectedConditions.urlToBe(ui("/admin/ui/")));
  }

  @Test
  void operatorDrainsSwitchesAndSeesErrorsLiveWithoutConsoleErrors() throws Exception {
    logIn();

    // The pool and its three endpoints, live.
    wait.until(
        d -> d.findElements(By.cssSelector("section[data-pool='demo'] tbody tr")).size() == 3);
    wait.until(
        d ->
            stateOf("demo-a").equals("HEALTHY")
                && stateOf("demo-b").equals("HEALTHY")
                && stateOf("demo-c").equals("HEALTHY"));
    assertThat(driver.findElements(By.cssSelector("tr[data-endpoint]")))
        .extracting(e -> e.getAttribute("data-endpoint"))
        .containsExactly("demo-a", "demo-b", "demo-c");
    assertThat(driver.findElement(By.id("connection")).getText()).isEqualTo("live");
    assertThat(driver.findElement(By.cssSelector("section[data-pool='demo'] .strategy")).getText())
        .isEqualTo("round-robin");
    assertThat(row("demo-a").getText()).contains("1 / 1.00").contains("CLOSED").contains("ms");
    assertThat(driver.findElement(By.id("logout")).isDisplayed())
        .as("logout shown for a cookie session")
        .isTrue();

    // Drain demo-b from the UI: DRAINING on the page and in the admin JSON.
    row("demo-b").findElement(By.cssSelector("button[data-action='drain']")).click();
    wait.until(d -> stateOf("demo-b").equals("DRAINING"));
    WebElement result = driver.findElement(By.id("action-result"));
    assertThat(result.getAttribute("data-kind")).isEqualTo("ok");
    assertThat(result.getText()).contains("Drain demo-b").contains("202");
    assertThat(endpointState(adminJson("/admin/pools/demo"), "demo-b")).isEqualTo("DRAINING");
    wait.until(d -> row("demo-b").getText().contains("HEALTHY → DRAINING"));
    wait.until(
        d ->
            d.findElement(By.cssSelector("section[data-pool='demo'] .transitions li"))
                .getText()
                .contains("demo-b: HEALTHY → DRAINING"));

    // Switch the strategy, with the confirmation step.
    new Select(driver.findElement(By.cssSelector("section[data-pool='demo'] .strategy-select")))
        .selectByValue("p2c-ewma");
    driver.findElement(By.cssSelector("section[data-pool='demo'] .strategy-switch")).click();
    WebElement dialog = driver.findElement(By.id("confirm-strategy"));
    wait.until(ExpectedConditions.visibilityOf(dialog));
    assertThat(driver.findElement(By.id("confirm-text")).getText())
        .contains("from round-robin to p2c-ewma");
    assertThat(adminJson("/admin/pools/demo").get("strategy").asText())
        .as("nothing switches before the operator confirms")
        .isEqualTo("round-robin");
    driver.findElement(By.id("confirm-yes")).click();
    wait.until(
        d ->
            d.findElement(By.cssSelector("section[data-pool='demo'] .strategy"))
                .getText()
                .equals("p2c-ewma"));
    assertThat(adminJson("/admin/pools/demo").get("strategy").asText()).isEqualTo("p2c-ewma");
    assertThat(driver.findElement(By.id("action-result")).getText())
        .contains("Switch pool demo to p2c-ewma: done (200)");

    assertThat(severeConsoleEntries()).as("browser console errors during normal use").isEmpty();

    // An API error is shown, never swallowed: a second switch within the dwell time is a 409.
    new Select(driver.findElement(By.cssSelector("section[data-pool='demo'] .strategy-select")))
        .selectByValue("round-robin");
    driver.findElement(By.cssSelector("section[data-pool='demo'] .strategy-switch")).click();
    wait.until(ExpectedConditions.visibilityOf(dialog));
    driver.findElement(By.id("confirm-yes")).click();
    wait.until(
        d -> "error".equals(d.findElement(By.id("action-result")).getAttribute("data-kind")));
    assertThat(driver.findElement(By.id("action-result")).getText())
        .contains("Switch pool demo to round-robin failed (409)")
        .contains("switch of pool 'demo' to 'round-robin' refused")
        .contains("minSwitchInterval is 10000 ms");
    assertThat(adminJson("/admin/pools/demo").get("strategy").asText()).isEqualTo("p2c-ewma");
    assertThat(severeConsoleEntries())
        .as(
            "the only console line allowed is Chromium's own note of the deliberate 409"
                + " response")
        .containsExactly(
            ui("/admin/pools/demo/strategy?name=round-robin")
                + " - Failed to load resource: the server responded with a status"
                + " of 409 (Conflict)");

    // A backend dies under traffic: its recent error rate and its way out of rotation show.
    backends.kill("demo-c");
    for (int i = 0; i < 30; i++) {
      http.send(
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + edge.proxyPort() + "/proxy/demo/item/" + i))
              .build(),
          HttpResponse.BodyHandlers.discarding());
    }
    JsonNode afterKill = adminJson("/admin/pools/demo");
    long errors =
        afterKill.get("recentErrorRates").get("endpoints").get("demo-c").get("errors").asLong();
    assertThat(errors).as("the failures retries hid are still counted").isPositive();
    wait.until(
        d ->
            row("demo-c")
                .findElement(By.cssSelector("td[data-label='Errors (recent)']"))
                .getText()
                .matches("\\d+\\.\\d% \\(\\d+ of \\d+ in .*"));
    assertThat(
            row("demo-c")
                .findElement(By.cssSelector("td[data-label='Errors (recent)']"))
                .getAttribute("class"))
        .contains("bad");
    assertThat(
            row("demo-a").findElement(By.cssSelector("td[data-label='Errors (recent)']")).getText())
        .startsWith("0.0% (0 of ");
    wait.until(d -> !stateOf("demo-c").equals("HEALTHY"));
    if (stateOf("demo-c").equals("EJECTED")) {
      assertThat(
              row("demo-c").findElement(By.cssSelector("td[data-label='Ejection left']")).getText())
          .matches("\\d+\\.\\d s");
      assertThat(row("demo-c").findElement(By.cssSelector(".breaker")).getText()).isEqualTo("OPEN");
    }
    assertThat(adminJson("/admin/pools/demo").get("panic").asBoolean())
        .as("1 of 2 healthy is not below 50%")
        .isFalse();
    assertThat(driver.findElements(By.cssSelector("#banners [data-kind='panic']"))).isEmpty();

    // The last healthy backend dies too: its health checks fail (fall 3 at 2 s), panic mode
    // starts.
    backends.kill("demo-a");
    new WebDriverWait(driver, PANIC_WAIT)
        .until(d -> !d.findElements(By.cssSelector("#banners [data-kind='panic']")).isEmpty());
    assertThat(adminJson("/admin/pools/demo").get("panic").asBoolean()).isTrue();
    assertThat(driver.findElement(By.cssSelector("#banners [data-kind='panic']")).getText())
        .startsWith("PANIC in pool demo: too few healthy endpoints");
    assertThat(severeConsoleEntries()).as("console errors while the pool degrades").isEmpty();

    Path shots = Files.createDirectories(Path.of("target"));
    Files.write(
        shots.resolve("dashboard-laptop.png"),
        ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES));
  }

  @Test
  void keyboardOnlyPhoneWidthAndALostConnection() throws Exception {
    logIn();
    wait.until(d -> d.findElements(By.cssSelector("tr[data-endpoint]")).size() == 3);

    // Keyboard: Tab reaches the strategy controls and every endpoint's buttons, in page order.
    List<String> reached = new ArrayList<>();
    WebElement drainB = null;
    for (int i = 0; i < 40 && drainB == null; i++) {
      new Actions(driver).sendKeys(Keys.TAB).perform();
      WebElement active = driver.switchTo().activeElement();
      String label =
          active.getAttribute("aria-label") != null
              ? active.getAttribute("aria-label")
              : active.getText();
      reached.add(label);
      if ("Drain demo-b".equals(label)) {
        drainB = active;
      }
    }
    assertThat(reached)
        .contains(
            "New strategy for pool demo",
            "Switch…",
            "Drain demo-a",
            "Maint off demo-a",
            "Drain demo-b");
    // Focus survives the once-a-second updates (rows are updated in place, not rebuilt).
    String before = driver.findElement(By.id("updated")).getText();
    wait.until(d -> !d.findElement(By.id("updated")).getText().equals(before));
    String once = driver.findElement(By.id("updated")).getText();
    wait.until(d -> !d.findElement(By.id("updated")).getText().equals(once));
    assertThat(driver.switchTo().activeElement()).isEqualTo(drainB);
    new Actions(driver).sendKeys(Keys.ENTER).perform();
    wait.until(d -> stateOf("demo-b").equals("DRAINING"));
    assertThat(driver.findElement(By.id("action-result")).getText())
        .contains("Drain demo-b in pool demo: done (202)");

    // Escape cancels the confirmation; nothing switches, and the page says so.
    driver
        .findElement(By.cssSelector("section[data-pool='demo'] .strategy-switch"))
        .sendKeys(Keys.ENTER);
    wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("confirm-strategy")));
    new Actions(driver).sendKeys(Keys.ESCAPE).perform();
    wait.until(d -> "info".equals(d.findElement(By.id("action-result")).getAttribute("data-kind")));
    assertThat(driver.findElement(By.id("action-result")).getText()).contains("cancelled");
    assertThat(adminJson("/admin/pools/demo").get("strategy").asText()).isEqualTo("round-robin");

    // A phone: the table turns into cards and nothing scrolls sideways.
    driver.manage().window().setSize(new Dimension(390, 844));
    wait.until(d -> "block".equals(row("demo-a").getCssValue("display")));
    Object overflow =
        ((ChromeDriver) driver)
            .executeScript(
                "return document.documentElement.scrollWidth -"
                    + " document.documentElement.clientWidth");
    assertThat(((Number) overflow).intValue())
        .as("horizontal overflow at phone width, px")
        .isLessThanOrEqualTo(0);
    assertThat(
            row("demo-a").findElement(By.cssSelector("button[data-action='drain']")).isDisplayed())
        .isTrue();
    Files.createDirectories(Path.of("target"));
    Files.write(
        Path.of("target/dashboard-phone.png"),
        ((ChromeDriver) driver).getScreenshotAs(OutputType.BYTES));
    assertThat(severeConsoleEntries()).as("browser console errors").isEmpty();

    // The proxy goes away: the page says the connection is lost instead of showing stale data
    // as live.
    edge.close();
    edge = null;
    wait.until(d -> d.findElement(By.id("connection")).getText().equals("connection lost"));
    assertThat(driver.findElement(By.cssSelector("#banners [data-kind='lost']")).getText())
        .startsWith("Connection lost:")
        .contains("retrying every second");
  }

  private static String endpointState(JsonNode pool, String id) {
    for (JsonNode e : pool.get("endpoints")) {
      if (e.get("endpoint").get("id").asText().equals(id)) {
        return e.get("state").asText();
      }
    }
    throw new AssertionError("no endpoint " + id + " in " + pool);
  }
}
